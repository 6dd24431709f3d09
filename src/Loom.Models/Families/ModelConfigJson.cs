// config.json → each family's config record through System.Text.Json's source generator, not reflection:
// the generated readers need no runtime code generation, so the families can be read in a NativeAOT,
// trimmed build (loom-run, docs/EDGE.md) and behave there as on the JIT. The options are those the
// registry used before: named literals and quoted numbers bind, so "NaN" reaches Validate and is
// refused by name.
//
// One difference has to be undone: generated metadata sets every init-only property when it builds the
// record, so a field absent from config.json gets default(T) instead of the record's initializer
// (dotnet/runtime#84484, open in .NET 10: GPT-2's activation_function became null, not "gelu_new").
// Read therefore overlays config.json on the record's defaults (the default instance serialized) and
// deserializes the whole object, so every property is present and the defaults are the record's own.
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Loom.Models.Bert;
using Loom.Models.Gpt2;
using Loom.Models.Llama;
using Loom.Models.T5;

namespace Loom.Models.Families;

/// <summary>Source-generated JSON metadata for the families' config records.</summary>
[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals | JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(Gpt2Config))]
[JsonSerializable(typeof(LlamaConfig))]
[JsonSerializable(typeof(LlamaRopeScaling))]
[JsonSerializable(typeof(BertConfig))]
[JsonSerializable(typeof(T5Config))]
internal sealed partial class ModelConfigJson : JsonSerializerContext
{
    /// <summary>
    /// <paramref name="config"/> read as <typeparamref name="T"/>, with the record's own defaults for absent
    /// fields; <paramref name="nested"/> gives the defaults of object-valued fields whose default is null
    /// (Llama's rope_scaling), by JSON name.
    /// </summary>
    public static T Read<T>(JsonNode config, JsonTypeInfo<T> info, T defaults, IReadOnlyDictionary<string, JsonObject>? nested = null)
    {
        if (config is not JsonObject given) return config.Deserialize(info)!;   // the caller's checks name a non-object
        var merged = JsonSerializer.SerializeToNode(defaults, info)!.AsObject();
        Overlay(merged, given, nested);
        return merged.Deserialize(info)!;
    }

    private static void Overlay(JsonObject target, JsonObject given, IReadOnlyDictionary<string, JsonObject>? nested)
    {
        foreach (var (name, value) in given)
        {
            if (value is JsonObject inner && (target[name] as JsonObject ?? (nested != null && nested.TryGetValue(name, out var d) ? (JsonObject)d.DeepClone() : null)) is { } baseline)
            {
                Overlay(baseline, inner, null);
                target[name] = baseline;
            }
            else target[name] = value?.DeepClone();
        }
    }

    /// <summary>Llama's rope_scaling defaults (factor 1), for a rope_scaling object that omits fields.</summary>
    // Built on first use, not in a static initializer: the generated Default is a static of this same
    // partial class, whose initialization order across files is not defined.
    public static IReadOnlyDictionary<string, JsonObject> LlamaNested => s_llamaNested ??= new Dictionary<string, JsonObject>(StringComparer.Ordinal)
    {
        ["rope_scaling"] = JsonSerializer.SerializeToNode(new LlamaRopeScaling(), GeneratedDefault().LlamaRopeScaling)!.AsObject(),
    };

    private static IReadOnlyDictionary<string, JsonObject>? s_llamaNested;

    private static ModelConfigJson GeneratedDefault() => Default;

    /// <summary>
    /// The .NET type of the config field <paramref name="jsonName"/> of <paramref name="configuration"/> (nullable
    /// unwrapped), or null: error messages name what a field must be from it, since source-generated readers report
    /// a bad value as not convertible to the record, not to the field's type.
    /// </summary>
    public static Type? FieldType(Type configuration, string jsonName)
    {
        var property = GeneratedDefault().GetTypeInfo(configuration)?.Properties.FirstOrDefault(p => p.Name == jsonName);
        return property is null ? null : Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
    }
}
