using ControlPlane.Load;

// controlplane-load: offered load against a running plane (./run.sh) and the raw server baselines, same run.
// Options: README "Load".
LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException)
{
    Console.Error.WriteLine($"controlplane-load: {e.Message} (options: README \"Load\")");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
{
    Timeout = TimeSpan.FromSeconds(60),
};

// Idle memory first, before anything is offered (the plane has been up and quiet since ./run.sh said healthy).
var idle = ServiceMemory.Read();
LoadReport.WriteMemory(Console.Out, "idle resident memory per service (VmRSS, before the run)", idle);
// A plane started a minute ago is still warming up; the machine block says so.
var youngestService = MachineConditions.YoungestProcessAge(idle.Select(s => s.ProcessId).OfType<int>());
// How quiet the box is, and what the kernel pages back in during the run: a disturbed run says so. A plane still busy
// with the previous run gets up to --settle to finish first.
double? busyBefore;
if (options.Settle is { } settle)
{
    (busyBefore, var waited) = await MachineConditions.SettleAsync(TimeSpan.FromSeconds(2), settle, cancel.Token);
    if (waited > TimeSpan.Zero)
    {
        Console.WriteLine($"waited {waited.TotalSeconds:0} s for the box to settle ({busyBefore * 100:0}% busy now; --settle, --no-settle)");
    }
}
else
{
    busyBefore = await MachineConditions.BusyShareAsync(TimeSpan.FromSeconds(2), cancel.Token);
}

var baselines = new List<BaselineFigure>();
string? synchronousCommit = null;
if (options.Baselines)
{
    Console.WriteLine($"measuring the raw baselines ({options.BaselineDuration.TotalSeconds:0.#} s each) on the same servers");
    synchronousCommit = await Baselines.SynchronousCommitAsync(options.Postgres, cancel.Token);
    if (options.Mode == LoadMode.Proposals)
    {
        Measured(await Baselines.RabbitRoundTripsAsync(options.Amqp, 1, options.BaselineDuration, cancel.Token));
        Measured(await Baselines.RabbitRoundTripsAsync(options.Amqp, 32, options.BaselineDuration, cancel.Token));
    }

    Measured(await Baselines.PostgresInsertsAsync(options.Postgres, 1, options.BaselineDuration, cancel.Token));
    Measured(await Baselines.PostgresInsertsAsync(options.Postgres, 8, options.BaselineDuration, cancel.Token));
}

MachineCounters? machineBefore = null;
var evidenceDatabase = options.EvidenceDatabase ?? EvidenceAppends.DefaultDatabase(Environment.CurrentDirectory);
if (options.Mode == LoadMode.Evidence)
{
    var bus = options.PlaneBus ?? LoadOptions.DefaultPlaneBus(options.Amqp, Environment.CurrentDirectory);
    var evidenceConnection = new Npgsql.NpgsqlConnectionStringBuilder(options.Postgres) { Database = evidenceDatabase }.ConnectionString;
    EvidenceLoadResult appended;
    IReadOnlyList<CpuShare> cpu;
    try
    {
        var cpuBefore = ProcessCpu.Read(idle);
        machineBefore = MachineConditions.Read();
        appended = await new EvidenceLoad(options, Console.Out).RunAsync(bus, evidenceConnection, cancel.Token);
        cpu = ProcessCpu.PerUnit(cpuBefore, ProcessCpu.Read(idle), (int)appended.Recorded);
    }
    catch (Exception e) when (e is RabbitMQ.Client.Exceptions.BrokerUnreachableException or Npgsql.PostgresException)
    {
        Console.Error.WriteLine($"controlplane-load: the plane's broker vhost or evidence database did not answer ({e.Message}). Start it with ./run.sh, or pass --plane-amqp and --evidence-db.");
        return 1;
    }

    LoadReport.WriteEvidence(Console.Out, options, appended, baselines, synchronousCommit);
    LoadReport.WriteCpu(Console.Out, "evidence record", "first publish → last record read", cpu);
    LoadReport.WriteMachine(Console.Out, MachineConditions.Report(busyBefore, machineBefore, MachineConditions.Read(), MachineConditions.ProactivePageout(), youngestService));
    LoadReport.WriteMemory(Console.Out, "resident memory per service after the run", ServiceMemory.Read());
    return appended.Recorded > 0 ? 0 : 1;
}

PlaneResult plane;
var planeCpuBefore = ProcessCpu.Read(idle);
machineBefore = MachineConditions.Read();
try
{
    plane = await new PlaneLoad(options, http, Console.Out).RunAsync(cancel.Token);
}
catch (Exception e) when (e is HttpRequestException or ControlPlane.Client.TokenRequestException)
{
    // No plane, no figures: say how to start one rather than print an empty report.
    Console.Error.WriteLine($"controlplane-load: the plane did not answer at {options.Identity} / {options.Orchestrator} ({e.Message}). Start it with ./run.sh (CONFIGURATION=Release for figures).");
    return 1;
}

var evidence = await EvidenceAppends.ReadAsync(options.Postgres, evidenceDatabase, plane.StartedAt, plane.EndedAt, cancel.Token);
LoadReport.Write(Console.Out, options, plane, evidence, baselines, synchronousCommit);
LoadReport.WriteCpu(Console.Out, "proposal", "offer start → last outcome read; orchestrator's includes this tool's status reads", ProcessCpu.PerUnit(planeCpuBefore, ProcessCpu.Read(idle), plane.Accepted.Count));
LoadReport.WriteMachine(Console.Out, MachineConditions.Report(busyBefore, machineBefore, MachineConditions.Read(), MachineConditions.ProactivePageout(), youngestService));
LoadReport.WriteMemory(Console.Out, "resident memory per service after the run", ServiceMemory.Read());
return plane.Accepted.Count > 0 ? 0 : 1;

void Measured(BaselineFigure figure)
{
    baselines.Add(figure);
    Console.WriteLine($"  {figure.What}, {figure.InFlight} in flight: {figure.PerSecond:0}/s");
}
