using System.Text.RegularExpressions;

namespace ControlPlane.Chaos.Tests.Burst;

/// <summary>One execution as the runner's own demo command recorded it (a line of services/&lt;service&gt;.&lt;kind&gt;).</summary>
public sealed record Execution(string Runner, string Service, string Kind, Guid WorkId, Guid ProposalId);

/// <summary>
/// Counts executions on the runner side: every demo command that changes a service appends one line
/// "&lt;time&gt; work=&lt;id&gt; proposal=&lt;id&gt;" to its workspace (restart-service and deploy to .restarts/.deploys,
/// the rollbacks to .rollbacks), whatever orchestrator believes happened.
/// </summary>
public static partial class RunnerExecutions
{
    /// <summary>The kinds that are a proposal's change itself (a deploy also records its rolling restart, same work id).</summary>
    private static readonly string[] ChangeKinds = ["restarts", "deploys"];

    public static IReadOnlyList<Execution> Read(string runnerStates)
    {
        var executions = new List<Execution>();
        if (!Directory.Exists(runnerStates))
        {
            return executions;
        }

        foreach (var runner in Directory.GetDirectories(runnerStates))
        {
            var services = Path.Combine(runner, "workspace", "services");
            if (!Directory.Exists(services))
            {
                continue;
            }

            foreach (var file in Directory.GetFiles(services))
            {
                var kind = Path.GetExtension(file).TrimStart('.');
                var service = Path.GetFileNameWithoutExtension(file);
                executions.AddRange(Parse(Path.GetFileName(runner), service, kind, File.ReadAllLines(file)));
            }
        }

        return executions;
    }

    public static IEnumerable<Execution> Parse(string runner, string service, string kind, IEnumerable<string> lines) =>
        lines.Select(l => Line().Match(l)).Where(m => m.Success)
            .Select(m => new Execution(runner, service, kind, Guid.Parse(m.Groups["work"].Value), Guid.Parse(m.Groups["proposal"].Value)));

    /// <summary>Work packages that ran more than once (the same work id recorded twice in one record).</summary>
    public static IReadOnlyList<Guid> PackagesRunTwice(IEnumerable<Execution> executions) =>
        [.. executions.GroupBy(e => (e.Runner, e.Service, e.Kind, e.WorkId)).Where(g => g.Count() > 1).Select(g => g.Key.WorkId).Distinct()];

    /// <summary>Proposals whose change ran more than once on a target (under different work ids: a re-offer that ran again).</summary>
    public static IReadOnlyList<Guid> ChangesRunTwice(IEnumerable<Execution> executions) =>
        [.. ChangeRuns(executions).Where(p => p.Value > 1).Select(p => p.Key)];

    /// <summary>How many distinct packages ran each proposal's change, per proposal.</summary>
    public static IReadOnlyDictionary<Guid, int> ChangeRuns(IEnumerable<Execution> executions) =>
        executions.Where(e => ChangeKinds.Contains(e.Kind, StringComparer.Ordinal))
            .GroupBy(e => (e.ProposalId, e.Service))
            .Select(g => (g.Key.ProposalId, Runs: g.Select(e => e.WorkId).Distinct().Count()))
            .GroupBy(x => x.ProposalId)
            .ToDictionary(g => g.Key, g => g.Max(x => x.Runs));

    [GeneratedRegex(@"work=(?<work>[0-9a-fA-F-]{36}) proposal=(?<proposal>[0-9a-fA-F-]{36})")]
    private static partial Regex Line();
}
