// Source-generated System.Text.Json metadata for the plain shapes tokenizer files hold (encoder.json's
// token → id object), so reading them needs no reflection or runtime code generation and works in a
// NativeAOT, trimmed build (loom-run) exactly as on the JIT.
using System.Text.Json.Serialization;

namespace Loom.Tokenizers.Formats;

/// <summary>JSON metadata for tokenizer files.</summary>
[JsonSerializable(typeof(Dictionary<string, int>))]
internal sealed partial class TokenizerFileJson : JsonSerializerContext;
