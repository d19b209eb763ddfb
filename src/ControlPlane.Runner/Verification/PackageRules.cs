using ControlPlane.Contracts;

namespace ControlPlane.Runner.Verification;

/// <summary>The checks on a work package's claims once its signature verified. Pure: the clock comes in.</summary>
public static class PackageRules
{
    public const string ExpectedIssuer = "fleet";

    /// <summary>Why this runner must not run the package (validity window, audience, issuer, routing), or null.</summary>
    public static string? CheckClaims(WorkPackage package, Guid deliveredWorkId, string runnerId, DateTimeOffset now, TimeSpan skew)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (!string.Equals(package.Issuer, ExpectedIssuer, StringComparison.Ordinal))
        {
            return $"package issuer is '{package.Issuer}', not '{ExpectedIssuer}'";
        }

        if (package.WorkId != deliveredWorkId)
        {
            return $"delivery names work {deliveredWorkId} but the signed package is work {package.WorkId}";
        }

        if (now + skew < package.NotBefore)
        {
            return $"package is not valid before {package.NotBefore:O} (now {now:O})";
        }

        if (now - skew >= package.ExpiresAt)
        {
            return $"package expired at {package.ExpiresAt:O} (now {now:O})";
        }

        if (!string.Equals(package.Audience, runnerId, StringComparison.Ordinal))
        {
            return $"package is addressed to runner '{package.Audience}', not to '{runnerId}'";
        }

        return null;
    }
}
