using System.Text.Json;
using Loom.Serving.Protocol;

namespace Loom.Serving.Batch;

/// <summary>One request of a batch input file.</summary>
/// <param name="LineNumber">1-based line in the input.</param>
/// <param name="CustomId">The caller's id of the request.</param>
/// <param name="Endpoint">Which endpoint its url names.</param>
/// <param name="Body">The request body, as for the HTTP endpoint.</param>
public sealed record BatchRequestLine(int LineNumber, string CustomId, ApiEndpoint Endpoint, JsonElement Body);
