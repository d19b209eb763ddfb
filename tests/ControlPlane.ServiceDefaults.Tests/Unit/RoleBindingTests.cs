using System.Security.Claims;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.ServiceDefaults.Tests.Unit;

public sealed class RoleBindingTests
{
    [Theory]
    [InlineData("approver", "approver", ScopeKind.Global, null)]
    [InlineData("approver@environment:production", "approver", ScopeKind.Environment, "production")]
    [InlineData("operator@node:billing", "operator", ScopeKind.Node, "billing")]
    [InlineData("viewer@team:payments", "viewer", ScopeKind.Team, "payments")]
    public void Parses_and_formats_round_trip(string text, string role, ScopeKind scope, string? value)
    {
        Assert.True(RoleBinding.TryParse(text, out var binding));
        Assert.Equal(new RoleBinding(role, scope, value), binding);
        Assert.Equal(text, binding.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("superuser")]
    [InlineData("approver@")]
    [InlineData("approver@environment")]
    [InlineData("approver@environment:")]
    [InlineData("approver@galaxy:andromeda")]
    public void Rejects_what_is_not_a_binding(string text) => Assert.False(RoleBinding.TryParse(text, out _));

    [Fact]
    public void An_environment_binding_covers_only_its_environment()
    {
        var binding = new RoleBinding(Roles.Approver, ScopeKind.Environment, "production");
        Assert.True(binding.Covers("production"));
        Assert.False(binding.Covers("staging"));
        Assert.False(binding.Covers(null));
    }

    [Fact]
    public void A_node_binding_covers_an_object_only_when_every_target_is_that_node()
    {
        var binding = new RoleBinding(Roles.Approver, ScopeKind.Node, "billing");
        Assert.True(binding.Covers("production", ["billing"]));
        Assert.False(binding.Covers("production", ["billing", "checkout"]));
        Assert.False(binding.Covers("production", []));
    }

    [Fact]
    public void A_caller_has_a_permission_through_a_role_and_in_scope_only_where_the_binding_covers()
    {
        var user = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(ControlPlaneClaims.Subject, "priya@example.com"),
            new Claim(ControlPlaneClaims.Kind, "human"),
            new Claim(ControlPlaneClaims.Roles, "approver@environment:production"),
            new Claim(ControlPlaneClaims.Roles, "not-a-role"),
        ], "Bearer"));

        var caller = Caller.From(user)!;

        Assert.Equal(PrincipalKind.Human, caller.Kind);
        Assert.Single(caller.Bindings);
        Assert.True(caller.HasPermission(Permissions.ProposalsApprove));
        Assert.True(caller.HasPermission(Permissions.ProposalsApprove, "production"));
        Assert.False(caller.HasPermission(Permissions.ProposalsApprove, "staging"));
        Assert.False(caller.HasPermission(Permissions.PolicyWrite));
    }

    [Fact]
    public void An_unauthenticated_principal_is_no_caller() =>
        Assert.Null(Caller.From(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ControlPlaneClaims.Subject, "x")]))));

    [Fact]
    public void Every_role_grants_something_and_only_admin_manages_bindings()
    {
        Assert.All(Roles.All, role => Assert.NotEmpty(Permissions.ByRole[role]));
        Assert.Equal([Roles.Admin], Roles.All.Where(r => Permissions.Grants(r, Permissions.BindingsWrite)));
        Assert.DoesNotContain(Roles.All.Where(r => r != Roles.Admin && r != Roles.Approver), r => Permissions.Grants(r, Permissions.ProposalsApprove));
    }
}
