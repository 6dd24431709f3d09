// The metadata value types of GGUF (ggml docs/gguf.md "gguf_metadata_value_type"; gguf-py constants.py
// GGUFValueType). The numbers are the file's, so they must not change.
namespace Loom.Models.Formats.Gguf;

/// <summary>A GGUF metadata value's type id.</summary>
public enum GgufValueType : uint
{
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
}
