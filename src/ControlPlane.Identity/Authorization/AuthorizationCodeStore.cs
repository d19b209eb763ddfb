using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ControlPlane.ServiceDefaults.Caching;
using Microsoft.AspNetCore.WebUtilities;

namespace ControlPlane.Identity.Authorization;

/// <summary>What an authorization code stands for: the request it answered and the human who signed in.</summary>
public sealed record IssuedCode(string ClientId, string RedirectUri, string CodeChallenge, string? Nonce, string HumanId, DateTimeOffset AuthTime);

/// <summary>
/// One-time values in Redis: authorization codes (256 random bits, Identity:AuthorizationCodeLifetime, default
/// 60 s) and pending corporate-IdP logins. Keys hold a hash of the value, so a Redis dump reveals no usable code;
/// GETDEL makes redemption atomic, so a code works once even with two replicas racing. Redis errors propagate:
/// the caller answers 503 (fail closed), never a token.
/// </summary>
public sealed class AuthorizationCodeStore(RedisConnection redis, IConfiguration configuration)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public TimeSpan CodeLifetime { get; } = configuration.GetValue("Identity:AuthorizationCodeLifetime", TimeSpan.FromSeconds(60)) is { } lifetime
        && lifetime > TimeSpan.Zero && lifetime <= TimeSpan.FromMinutes(10)
            ? lifetime
            : throw new InvalidOperationException("Identity:AuthorizationCodeLifetime must be between 00:00:00 and 00:10:00.");

    public Task<string> IssueAsync(IssuedCode code) => PutAsync("oidc:code:", code, CodeLifetime);

    public Task<IssuedCode?> RedeemAsync(string code) => TakeAsync<IssuedCode>("oidc:code:", code);

    /// <summary>Keeps a value under a new random handle for <paramref name="lifetime"/>; returns the handle.</summary>
    public async Task<string> PutAsync<T>(string kind, T value, TimeSpan lifetime)
    {
        var handle = Base64UrlTextEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        await redis.GetDatabase().StringSetAsync(Key(kind, handle), JsonSerializer.Serialize(value, Json), lifetime);
        return handle;
    }

    /// <summary>The value under the handle, removed in the same step; null when unknown, expired or already taken.</summary>
    public async Task<T?> TakeAsync<T>(string kind, string handle) where T : class
    {
        if (handle.Length is 0 or > 128)
        {
            return null;
        }

        var stored = await redis.GetDatabase().StringGetDeleteAsync(Key(kind, handle));
        return stored.IsNullOrEmpty ? null : JsonSerializer.Deserialize<T>(stored.ToString(), Json);
    }

    private static string Key(string kind, string handle) => kind + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(handle)));
}
