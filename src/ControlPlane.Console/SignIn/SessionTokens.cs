using System.Collections.Concurrent;

namespace ControlPlane.Console.SignIn;

/// <summary>
/// The signed-in humans' tokens, kept in the server and never in the browser: the subject token from the code
/// exchange, and per audience the token exchanged for it, each until it expires. The cookie carries only a
/// random session id. A console restart forgets every session: the human signs in again.
/// </summary>
public sealed class SessionTokens(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    public string Start(string humanId, string subjectToken, DateTimeOffset expiresAt)
    {
        Sweep();
        var id = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        _sessions[id] = new Session(humanId, subjectToken, expiresAt);
        return id;
    }

    /// <summary>The live session, or null once it expired or was ended (the cookie is then refused).</summary>
    public Session? Find(string? id) =>
        id is not null && _sessions.TryGetValue(id, out var session) && session.ExpiresAt > time.GetUtcNow() ? session : null;

    public void End(string? id)
    {
        if (id is not null)
        {
            _sessions.TryRemove(id, out _);
        }
    }

    private void Sweep()
    {
        var now = time.GetUtcNow();
        foreach (var (id, session) in _sessions)
        {
            if (session.ExpiresAt <= now)
            {
                _sessions.TryRemove(id, out _);
            }
        }
    }

    public sealed class Session(string humanId, string subjectToken, DateTimeOffset expiresAt)
    {
        public string HumanId { get; } = humanId;

        public string SubjectToken { get; } = subjectToken;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        /// <summary>Exchanged tokens by audience.</summary>
        public ConcurrentDictionary<string, (string Token, DateTimeOffset ExpiresAt)> Exchanged { get; } = new(StringComparer.Ordinal);
    }
}
