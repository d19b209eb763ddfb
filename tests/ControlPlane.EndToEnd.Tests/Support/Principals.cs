namespace ControlPlane.EndToEnd.Tests.Support;

/// <summary>The demo principals (src/ControlPlane.Identity/Seed/demo-identity.json) the walk-throughs act as.</summary>
public static class Principals
{
    public const string ProductionApprover = "priya.prod-approver@example.com";
    public const string StagingApprover = "sam.staging-approver@example.com";
    public const string Viewer = "vic.viewer@example.com";
    public const string Admin = "ada.admin@example.com";
    public const string Operator = "oscar.operator@example.com";
    public const string Auditor = "aud.auditor@example.com";
    public const string RemediationSponsor = "sre.lead@example.com";
    public const string RemediationAgent = "remediation-agent";
    public const string TestingAgent = "testing-agent";
    public const string RemediationAgentSecret = "demo-secret-remediation-agent-development-only";
    public const string TestingAgentSecret = "demo-secret-testing-agent-development-only";
}
