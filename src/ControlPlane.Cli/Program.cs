using System.CommandLine;
using ControlPlane.Cli.Commands;

var root = new RootCommand("controlplane: propose, approve, inspect and verify governed actions.");
root.Subcommands.Add(StatusCommand.Create());
foreach (var command in ProposalCommands.Create())
{
    root.Subcommands.Add(command);
}

root.Subcommands.Add(EvidenceCommand.Create());
root.Subcommands.Add(GraphImportCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(PolicyCommand.Create());
return await root.Parse(args).InvokeAsync();
