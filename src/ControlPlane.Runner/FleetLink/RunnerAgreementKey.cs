using System.Security.Cryptography;
using ControlPlane.Contracts;

namespace ControlPlane.Runner.FleetLink;

/// <summary>
/// The runner's ECDH P-256 key that fleet seals package credentials to (<see cref="CredentialSeal"/>). Its own key,
/// never the result-signing <see cref="RunnerKey"/>: one key, one job. Kept in the state directory like that one
/// (PKCS#8 PEM, owner only) and registered with fleet as RunnerRegistration.AgreementKey.
/// </summary>
public sealed class RunnerAgreementKey : IDisposable
{
    public const string FileName = "runner-agreement-key.pem";

    private RunnerAgreementKey(ECDiffieHellman key)
    {
        Key = key;
        PublicKey = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
    }

    public ECDiffieHellman Key { get; }

    /// <summary>Base64 DER SubjectPublicKeyInfo, as registered.</summary>
    public string PublicKey { get; }

    public static RunnerAgreementKey LoadOrCreate(string stateDirectory) =>
        new(StateFiles.LoadOrCreateKey(stateDirectory, FileName, ECDiffieHellman.Create()));

    /// <summary>
    /// The package's target credential: null without one (Withheld says why), else the token, or a refusal reason when
    /// a sealed credential does not open for this package and runner.
    /// </summary>
    public (string? Token, string? Refusal) Open(WorkPackage package, string runnerId)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (package.Credential?.Sealed is not { } sealedCredential)
        {
            return (null, null);
        }

        var token = CredentialSeal.Open(sealedCredential, Key, package.WorkId, runnerId, out var failure);
        return token is null ? (null, "the package's target credential: " + failure) : (token, null);
    }

    public void Dispose() => Key.Dispose();
}
