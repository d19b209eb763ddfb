using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Credentials;
using ControlPlane.Fleet.Runners;
using ControlPlane.Fleet.Signing;
using ControlPlane.Fleet.Tests.Support;
using ControlPlane.Fleet.Work;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Fleet.Tests.Unit;

/// <summary>Package credentials as fleet mints and checks them: the JWS, who may introspect what, and the runner's agreement key.</summary>
public sealed class CredentialRulesTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task A_minted_credential_reads_back_with_its_audience_environment_action_package_and_expiry()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var package = Package(["billing", "ledger"]);

        var token = CredentialTokens.Create(new FleetKey(SigningKeyIds.Thumbprint(key), key), package, "jti-1");
        var (claims, failure) = await CredentialTokens.ReadAsync(token, KeySet(key), Now);

        Assert.True(claims is not null, failure);
        Assert.Equal(("jti-1", "staging", "run-command", package.WorkId, Trim(package.ExpiresAt)),
            (claims.Jti, claims.Environment, claims.Action, claims.Package, claims.ExpiresAt));
        Assert.Equal(["billing", "ledger"], claims.Audience);
    }

    [Fact]
    public async Task Another_key_an_expired_token_or_an_altered_one_does_not_read()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var token = CredentialTokens.Create(new FleetKey(SigningKeyIds.Thumbprint(key), key), Package(["billing"]), "jti-2");
        var parts = token.Split('.');
        var altered = string.Join('.', parts[0], parts[1][..^2] + (parts[1][^2] == 'A' ? "B" : "A") + parts[1][^1], parts[2]);

        Assert.Null((await CredentialTokens.ReadAsync(token, KeySet(other), Now)).Claims);
        Assert.Null((await CredentialTokens.ReadAsync(token, KeySet(key), Now.AddMinutes(10))).Claims);
        Assert.Null((await CredentialTokens.ReadAsync(altered, KeySet(key), Now)).Claims);
        Assert.Null((await CredentialTokens.ReadAsync("not-a-token", KeySet(key), Now)).Claims);
    }

    [Fact]
    public void Only_node_scoped_bindings_name_audiences_and_a_token_is_active_only_for_them_while_live()
    {
        var billing = Caller("target-billing", new RoleBinding(Roles.TargetSystem, ScopeKind.Node, "billing"));
        var global = Caller("target-any", new RoleBinding(Roles.TargetSystem));
        var admin = Caller("root", new RoleBinding(Roles.Admin, ScopeKind.Node, "billing"));
        var claims = new CredentialClaims("jti-3", ["billing"], "staging", "run-command", Guid.NewGuid(), Now.AddMinutes(1));
        var stored = new StoredCredential("jti-3", claims.Package, Guid.NewGuid(), "runner-a", ["billing"], "staging", "run-command", claims.ExpiresAt, null, null);

        var active = IntrospectionRules.Decide(claims, stored, IntrospectionRules.CallerAudiences(billing), Now);

        Assert.Equal(new HashSet<string> { "billing" }, IntrospectionRules.CallerAudiences(billing));
        Assert.Empty(IntrospectionRules.CallerAudiences(global));
        Assert.Empty(IntrospectionRules.CallerAudiences(admin));
        Assert.True(active.Active);
        Assert.Equal(["billing"], active.Aud);
        Assert.Equal(("staging", "run-command", claims.Package, claims.ExpiresAt.ToUnixTimeSeconds()), (active.Env, active.Action, active.Package, active.Exp));
        Assert.False(IntrospectionRules.Decide(claims, stored, new HashSet<string> { "ledger" }, Now).Active);
        Assert.False(IntrospectionRules.Decide(claims, stored with { RevokedAt = Now, Reason = "package completed" }, IntrospectionRules.CallerAudiences(billing), Now).Active);
        Assert.False(IntrospectionRules.Decide(claims, stored, IntrospectionRules.CallerAudiences(billing), Now.AddMinutes(2)).Active);
        Assert.False(IntrospectionRules.Decide(claims, null, IntrospectionRules.CallerAudiences(billing), Now).Active);
        Assert.False(IntrospectionRules.Decide(claims, stored with { WorkId = Guid.NewGuid() }, IntrospectionRules.CallerAudiences(billing), Now).Active);
    }

    [Fact]
    public void A_runner_may_register_an_agreement_key_of_its_own_but_not_its_signing_key_or_garbage()
    {
        using var signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var agreement = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var registration = new RunnerRegistration("runner-t1", "testing", ["run-command"], SigningKeyIds.ExportPublicKey(signing), SigningKeyIds.Thumbprint(signing),
            Convert.ToBase64String(agreement.ExportSubjectPublicKeyInfo()));

        Assert.Empty(RegistrationRules.Validate(registration, out var parsed));
        parsed?.Dispose();
        Assert.Empty(RegistrationRules.Validate(registration with { AgreementKey = null }, out parsed));
        parsed?.Dispose();
        Assert.Contains("agreementKey", RegistrationRules.Validate(registration with { AgreementKey = registration.PublicKey }, out _).Keys);
        Assert.Contains("agreementKey", RegistrationRules.Validate(registration with { AgreementKey = "AAAA" }, out _).Keys);
    }

    private static WorkPackage Package(IReadOnlyList<string> targets) =>
        WorkPackages.Create(WorkRequests.New("testing", "run-command", targets: targets), "runner-a", Now, TimeSpan.FromSeconds(5), "nonce");

    private static DateTimeOffset Trim(DateTimeOffset at) => DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds());

    private static FleetKeySet KeySet(ECDsa key) =>
        new([new FleetSigningKey(SigningKeyIds.Thumbprint(key), SigningKeyIds.ExportPublicKey(key), FleetKeySet.Algorithm, Now, null)]);

    private static Caller Caller(string id, RoleBinding binding) => new(id, PrincipalKind.Agent, id, [binding], null, null);
}
