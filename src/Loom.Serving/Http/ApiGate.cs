// The gate every request but /health passes before a handler: 503 while the server shuts down, 401
// without a valid Bearer key (when keys are set), 429 past the key's rate limit (a token bucket per
// key from System.Threading.RateLimiting, refilled every minute, with Retry-After). Keys are compared
// by their SHA-256 in constant time; the key id put in the request log is a prefix of that hash, so
// the log never holds a key.
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Loom.Serving.Protocol;
using Microsoft.AspNetCore.Http;

namespace Loom.Serving.Http;

/// <summary>Authentication, rate limits and shutdown refusal.</summary>
internal sealed class ApiGate : IDisposable
{
    public const string KeyIdItem = "loom.key_id";
    private readonly byte[][] _keyHashes;
    private readonly PartitionedRateLimiter<string>? _limiter;

    public ApiGate(IReadOnlyList<string> keys, int requestsPerMinute)
    {
        _keyHashes = keys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();
        if (requestsPerMinute > 0)
            _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = requestsPerMinute, TokensPerPeriod = requestsPerMinute, ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                QueueLimit = 0, AutoReplenishment = true,
            }));
    }

    /// <summary>The request log's id of a key: the first 12 hex digits of its SHA-256.</summary>
    public static string KeyId(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..12];

    /// <summary>Null when the request may pass (its key id stored in HttpContext.Items), else the refusal.</summary>
    public ApiException? Check(HttpContext context, bool stopping)
    {
        if (stopping) return OpenAIService.ShuttingDown();
        string? keyId = null;
        if (_keyHashes.Length > 0)
        {
            string header = context.Request.Headers.Authorization.ToString();
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                return new ApiException(401, "invalid_request_error",
                    "You didn't provide an API key. Send it in an Authorization header as 'Bearer KEY' (one of the keys given to loom serve --api-key).", null, "invalid_api_key");
            string key = header[7..].Trim();
            byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
            bool ok = false;
            foreach (var h in _keyHashes) ok |= CryptographicOperations.FixedTimeEquals(h, hash);
            if (!ok) return new ApiException(401, "invalid_request_error", "Incorrect API key provided. Use one of the keys given to loom serve --api-key.", null, "invalid_api_key");
            keyId = Convert.ToHexStringLower(hash)[..12];
        }
        context.Items[KeyIdItem] = keyId;
        if (_limiter != null)
        {
            using var lease = _limiter.AttemptAcquire(keyId ?? "anonymous");
            if (!lease.IsAcquired)
            {
                int after = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 60;
                return new ApiException(429, "requests", $"Rate limit reached for this API key: at most the --rate-limit of requests per minute. Retry after {after} s.", null, "rate_limit_exceeded")
                    { RetryAfterSeconds = after };
            }
        }
        return null;
    }

    public void Dispose() => _limiter?.Dispose();
}
