using System.Security.Cryptography;
using System.Text.RegularExpressions;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Fleet.Runners;

/// <summary>
/// Who may register, heartbeat and report as a runner: the token's subject is the runner id and its cp_fleet
/// claim is the runner's fleet. And what a registration must look like. Pure checks, no I/O.
/// </summary>
public static partial class RegistrationRules
{
    public const int MaxCapabilities = 64;

    /// <summary>Null when the caller is that runner of that fleet, otherwise why not.</summary>
    public static string? CallerMismatch(Caller caller, string runnerId, string fleet)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!string.Equals(caller.Id, runnerId, StringComparison.Ordinal))
        {
            return $"the token's subject '{caller.Id}' is not runner '{runnerId}'";
        }

        if (!string.Equals(caller.Fleet, fleet, StringComparison.Ordinal))
        {
            return caller.Fleet is null
                ? $"the token carries no fleet; runner '{runnerId}' belongs to fleet '{fleet}'"
                : $"the token is for fleet '{caller.Fleet}', not '{fleet}'";
        }

        return null;
    }

    /// <summary>Field errors of a registration (RFC 9457 validation problem shape); the parsed key when there are none.</summary>
    public static Dictionary<string, string[]> Validate(RunnerRegistration? registration, out ECDsa? publicKey)
    {
        publicKey = null;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (registration is null)
        {
            errors["body"] = ["a registration {runnerId, fleet, capabilities, publicKey, keyId} is required"];
            return errors;
        }

        if (!IsName(registration.RunnerId))
        {
            errors["runnerId"] = ["runnerId must be 1-100 characters of letters, digits, '.', '_', '-' or '@'"];
        }

        if (!IsName(registration.Fleet))
        {
            errors["fleet"] = ["fleet is required"];
        }

        if (registration.Capabilities is not { Count: > 0 and <= MaxCapabilities })
        {
            errors["capabilities"] = [$"capabilities must list 1-{MaxCapabilities} action kinds"];
        }
        else if (registration.Capabilities.FirstOrDefault(c => !IsCapability(c)) is { } bad)
        {
            errors["capabilities"] = [$"'{bad}' is not a capability: an action kind (lowercase letters, digits and '-'), optionally ':' and a command name"];
        }

        var key = SigningKeyIds.ImportPublicKey(registration.PublicKey, out var keyFailure);
        if (key is null)
        {
            errors["publicKey"] = [keyFailure!];
        }
        else if (!string.Equals(SigningKeyIds.Thumbprint(key), registration.KeyId, StringComparison.Ordinal))
        {
            errors["keyId"] = ["keyId must be the RFC 7638 thumbprint of publicKey"];
        }

        if (registration.AgreementKey is not null)
        {
            using var agreement = CredentialSeal.ImportPublicKey(registration.AgreementKey, out var agreementFailure);
            if (agreement is null)
            {
                errors["agreementKey"] = [agreementFailure!];
            }
            else if (string.Equals(registration.AgreementKey, registration.PublicKey, StringComparison.Ordinal))
            {
                // One key, one job: a signing key must not also serve key agreement.
                errors["agreementKey"] = ["agreementKey must be a key of its own, not the signing key publicKey"];
            }
        }

        if (errors.Count > 0)
        {
            key?.Dispose();
            return errors;
        }

        publicKey = key;
        return errors;
    }

    public static bool IsName(string? value) => value is { Length: > 0 and <= 100 } && NamePattern().IsMatch(value);

    public static bool IsActionKind(string? value) => value is { Length: > 0 and <= 64 } && ActionKindPattern().IsMatch(value);

    /// <summary>An action kind ("run-command") or an action kind with one of the runner's allow-listed commands ("run-command:deploy").</summary>
    public static bool IsCapability(string? value) => value is { Length: > 0 and <= 129 } && CapabilityPattern().IsMatch(value);

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*(:[A-Za-z0-9._-]{1,64})?$")]
    private static partial Regex CapabilityPattern();

    [GeneratedRegex("^[A-Za-z0-9._@-]+$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex ActionKindPattern();
}
