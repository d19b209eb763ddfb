using System.CommandLine;

namespace ControlPlane.Cli.Commands;

/// <summary>The options that say who the CLI acts as; every command that calls the plane takes them.</summary>
public sealed class CommonOptions
{
    public Option<string?> As { get; } = new("--as") { Description = "Act as this seeded human (development IdP, Development only), e.g. priya.prod-approver@example.com" };

    public Option<string?> Agent { get; } = new("--agent") { Description = "Act as this agent (client credentials), e.g. remediation-agent" };

    public Option<string?> Secret { get; } = new("--secret") { Description = "The agent's client secret (or CONTROLPLANE_CLIENT_SECRET)" };

    public Option<bool> Json { get; } = new("--json") { Description = "Print the raw JSON answer" };

    public void AddTo(Command command)
    {
        command.Options.Add(As);
        command.Options.Add(Agent);
        command.Options.Add(Secret);
        command.Options.Add(Json);
    }

    public PlaneClient Client(ParseResult result) =>
        new(Credentials.FromEnvironment(result.GetValue(As), result.GetValue(Agent), result.GetValue(Secret)));
}
