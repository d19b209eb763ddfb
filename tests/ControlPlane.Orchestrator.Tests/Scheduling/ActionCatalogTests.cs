using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.Orchestrator.Tests.Approvals;

namespace ControlPlane.Orchestrator.Tests.Scheduling;

public sealed class ActionCatalogTests
{
    private static OrchestratorOptions Options() => new()
    {
        Actions = new(StringComparer.Ordinal)
        {
            ["restart"] = new ActionMapping
            {
                ActionKind = "run-command",
                Fleet = "remediation",
                Parameters = new() { ["command"] = "restart-service", ["targets"] = "{targets}", ["why"] = "{parameters.reason} in {environment}" },
                Rollback = new StepMapping { Parameters = new() { ["command"] = "rollback-service" } },
            },
            ["deploy"] = new ActionMapping { ActionKind = "run-command", Parameters = new() { ["ref"] = "{change.reference}", ["node"] = "{target}" } },
            ["broken"] = new ActionMapping { ActionKind = "run-command", Parameters = new() { ["x"] = "{parameters.missing}" } },
        },
    };

    private static readonly ActionCatalog Catalog = new(Options());

    private static Orchestrator.Proposals.ProposalRecord Proposal(string kind, params string[] targets)
    {
        var p = ApprovalRulesTests.Proposal();
        return p with
        {
            Action = new ProposedAction(kind, "s", new Dictionary<string, string> { ["reason"] = "memory leak" }),
            Targets = targets.Length == 0 ? ["billing"] : targets,
            Change = p.Change with { RollbackPlan = "previous image" },
        };
    }

    [Fact]
    public void An_action_kind_maps_to_the_configured_runner_action_with_filled_templates()
    {
        Assert.True(Catalog.TryExecution(Proposal("restart", "billing", "billing-worker"), out var step, out var error), error);

        Assert.Equal(new RenderedStep("run-command", "remediation", step!.Parameters), step);
        Assert.Equal("restart-service", step.Parameters["command"]);
        Assert.Equal("billing,billing-worker", step.Parameters["targets"]);
        Assert.Equal("memory leak in production", step.Parameters["why"]);
    }

    [Fact]
    public void Unmapped_kinds_and_unfillable_templates_fail_with_the_reason()
    {
        Assert.False(Catalog.TryExecution(Proposal("scale"), out _, out var unmapped));
        Assert.False(Catalog.TryExecution(Proposal("broken"), out _, out var missing));
        Assert.False(Catalog.TryExecution(Proposal("deploy", "a", "b"), out _, out var single));

        Assert.Contains("Orchestrator:Actions:scale", unmapped, StringComparison.Ordinal);
        Assert.Contains("{parameters.missing}", missing, StringComparison.Ordinal);
        Assert.Contains("exactly one target", single, StringComparison.Ordinal);
    }

    [Fact]
    public void Rollback_carries_the_plan_and_falls_back_to_the_mapping_and_the_default()
    {
        Assert.True(Catalog.TryRollback(Proposal("restart"), out var mapped, out _));
        Assert.True(Catalog.TryRollback(Proposal("scale"), out var fallback, out _));

        Assert.Equal(("run-command", "remediation", "rollback-service", "previous image"),
            (mapped!.ActionKind, mapped.Fleet, mapped.Parameters["command"], mapped.Parameters[ActionCatalog.RollbackPlanParameter]));
        Assert.Equal(("run-command", "remediation", "rollback", "previous image"),
            (fallback!.ActionKind, fallback.Fleet, fallback.Parameters["command"], fallback.Parameters[ActionCatalog.RollbackPlanParameter]));
    }

    [Fact]
    public void Checks_run_on_the_named_fleet_or_the_default_one()
    {
        var named = Catalog.Check(new StepRequirement("latency", "http-check", new Dictionary<string, string> { ["fleet"] = "observe", ["url"] = "http://x" }), WorkStep.Verify);
        var plain = Catalog.Check(new StepRequirement("unit", "run-command", new Dictionary<string, string> { ["command"] = "unit-tests" }), WorkStep.Validate);

        Assert.Equal("observe", named.Fleet);
        Assert.False(named.Parameters.ContainsKey("fleet"));
        Assert.Equal("testing", plain.Fleet);
        Assert.Equal("unit-tests", plain.Parameters["command"]);
    }
}
