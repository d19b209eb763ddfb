using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Testing;

namespace ControlPlane.Policy.Apis;

/// <summary>A bundle's test results as the API answers them: a summary on upload, an RFC 9457 problem when they block activation.</summary>
public static class BundleTestResults
{
    /// <summary>Runs the bundle's own tests (none: an empty report).</summary>
    public static PolicyTestReport Run(PolicyBundle bundle, DateTimeOffset at) => PolicyTestRunner.Run(new CompiledPolicy(bundle, "candidate"), at);

    /// <summary>
    /// A stored bundle parsed again, or the 409 problem saying it no longer parses (stored under an older language:
    /// it can be neither tested nor simulated, so it is not activated).
    /// </summary>
    public static PolicyBundle? Reparse(string hash, string yaml, out IResult? problem)
    {
        var parsed = BundleParser.Parse(yaml);
        problem = parsed.IsValid ? null : Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The stored bundle no longer parses",
            detail: $"Bundle {hash} does not parse with this version of the language: {string.Join("; ", parsed.Errors)}. Upload a corrected bundle.");
        return parsed.Bundle;
    }

    public static object Summary(PolicyTestReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new { total = report.Total, passed = report.Passed, failed = report.Failed, failures = report.Failures.Select(Failure).ToList() };
    }

    /// <summary>422: activation refused, each failing case under "errors" (tests.&lt;name&gt;) and in "failures" with expected vs actual.</summary>
    public static IResult Refused(string hash, PolicyTestReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var errors = report.Failures.ToDictionary(f => $"tests.{f.Name}", f => new[] { f.Failure! }, StringComparer.Ordinal);
        return Results.ValidationProblem(errors, statusCode: StatusCodes.Status422UnprocessableEntity, title: "The bundle's tests fail",
            detail: $"{report.Failed} of {report.Total} test(s) of bundle {hash} fail, so it is not activated. Fix the rules or the tests " +
                "(`controlplane policy test <file>` runs them offline), or upload with ?activate=false to store it without activating.",
            extensions: new Dictionary<string, object?> { ["bundleHash"] = hash, ["failures"] = report.Failures.Select(Failure).ToList() });
    }

    private static object Failure(PolicyTestResult result) => new
    {
        name = result.Name,
        expected = new { outcome = PolicyTestRunner.Wire(result.ExpectedOutcome), rules = result.ExpectedRules, rulesInclude = result.ExpectedRulesInclude },
        actual = new { outcome = PolicyTestRunner.Wire(result.ActualOutcome), rules = result.ActualRules },
        reason = result.Failure,
    };
}
