using System.Globalization;

namespace ControlPlane.Load;

/// <summary>The command line of the load tool (README "Load" lists every option).</summary>
public sealed record LoadOptions
{
    /// <summary>The seeded demo agents (src/ControlPlane.Identity/Seed/demo-identity.json), in the order --agents takes them.</summary>
    public static readonly IReadOnlyList<string> SeededAgents = ["remediation-agent", "testing-agent"];

    public double Rate { get; init; } = 10;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long after the offered period outcomes are still awaited.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(60);

    public IReadOnlyList<string> Agents { get; init; } = SeededAgents;

    public IReadOnlyList<(string Environment, int Weight)> Mix { get; init; } = [("production", 1), ("dev", 1)];

    public Uri Identity { get; init; } = new("http://127.0.0.1:5101/");

    public Uri Orchestrator { get; init; } = new("http://127.0.0.1:5104/");

    public Uri Amqp { get; init; } = new("amqp://guest:guest@127.0.0.1:5672/");

    public string Postgres { get; init; } = "Host=127.0.0.1;Port=5432;Username=postgres;Database=postgres";

    /// <summary>evidence's database (null: the one ./run.sh uses from the current folder, .state/db-prefix + "evidence-db").</summary>
    public string? EvidenceDatabase { get; init; }

    public TimeSpan BaselineDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>proposals (through the plane's API) or evidence (evidence records straight to evidence's queue).</summary>
    public LoadMode Mode { get; init; } = LoadMode.Proposals;

    /// <summary>The plane's own broker vhost, for the evidence mode (null: the one ./run.sh uses, .state/db-prefix).</summary>
    public Uri? PlaneBus { get; init; }

    public bool Baselines { get; init; } = true;

    /// <summary>How long to wait, at most, for the box to be quiet before measuring (null: not at all).</summary>
    public TimeSpan? Settle { get; init; } = TimeSpan.FromSeconds(60);

    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name == "--no-settle")
            {
                options = options with { Settle = null };
                continue;
            }

            if (name == "--no-baselines")
            {
                options = options with { Baselines = false };
                continue;
            }

            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"{name} needs a value.");
            }

            var value = args[++i];
            options = name switch
            {
                "--rate" => options with { Rate = Positive(name, double.Parse(value, CultureInfo.InvariantCulture)) },
                "--duration" => options with { Duration = ParseDuration(value) },
                "--drain" => options with { Drain = ParseDuration(value) },
                "--settle" => options with { Settle = ParseDuration(value) },
                "--baseline-duration" => options with { BaselineDuration = ParseDuration(value) },
                "--agents" => options with { Agents = ParseAgents(value) },
                "--mix" => options with { Mix = ParseMix(value) },
                "--identity" => options with { Identity = new Uri(value) },
                "--orchestrator" => options with { Orchestrator = new Uri(value) },
                "--amqp" => options with { Amqp = new Uri(value) },
                "--postgres" => options with { Postgres = value },
                "--evidence-db" => options with { EvidenceDatabase = value },
                "--mode" => options with { Mode = ParseMode(value) },
                "--plane-amqp" => options with { PlaneBus = new Uri(value) },
                _ => throw new ArgumentException($"Unknown option {name}."),
            };
        }

        return options;
    }

    public static LoadMode ParseMode(string text) => text switch
    {
        "proposals" => LoadMode.Proposals,
        "evidence" => LoadMode.Evidence,
        _ => throw new ArgumentException($"--mode takes proposals or evidence, not '{text}'."),
    };

    /// <summary>The broker vhost ./run.sh gives this clone's plane: .state/db-prefix without its trailing '_' ("/" without a prefix).</summary>
    public static Uri DefaultPlaneBus(Uri amqp, string root)
    {
        ArgumentNullException.ThrowIfNull(amqp);
        var prefixFile = Path.Combine(root, ".state", "db-prefix");
        var vhost = File.Exists(prefixFile) ? File.ReadAllText(prefixFile).Trim().TrimEnd('_') : "";
        return new UriBuilder(amqp) { Path = vhost.Length == 0 ? "/" : "/" + Uri.EscapeDataString(vhost) }.Uri;
    }

    /// <summary>"15s", "500ms", "2m" or plain seconds.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : (text, 1.0);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            throw new ArgumentException($"'{text}' is not a duration such as 15s, 500ms or 2m.");
        }

        return TimeSpan.FromSeconds(value * unit);
    }

    /// <summary>"production:dev" (equal shares) or weighted "production=3:dev=1".</summary>
    public static IReadOnlyList<(string Environment, int Weight)> ParseMix(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var mix = new List<(string, int)>();
        foreach (var part in text.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split('=', 2);
            var environment = pieces[0];
            if (environment is not ("production" or "dev"))
            {
                throw new ArgumentException($"The mix takes production and dev, not '{environment}'.");
            }

            var weight = pieces.Length == 2 ? int.Parse(pieces[1], CultureInfo.InvariantCulture) : 1;
            mix.Add((environment, (int)Positive("--mix", weight)));
        }

        return mix.Count > 0 ? mix : throw new ArgumentException("The mix is empty.");
    }

    /// <summary>A count (the first N seeded agents) or a comma-separated list of seeded agent ids.</summary>
    public static IReadOnlyList<string> ParseAgents(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return count >= 1 && count <= SeededAgents.Count
                ? SeededAgents.Take(count).ToArray()
                : throw new ArgumentException($"--agents takes 1 to {SeededAgents.Count} (the seeded demo agents).");
        }

        var agents = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = agents.Where(a => !SeededAgents.Contains(a)).ToArray();
        return unknown.Length == 0 && agents.Length > 0
            ? agents
            : throw new ArgumentException($"Unknown agents {string.Join(", ", unknown)}; seeded: {string.Join(", ", SeededAgents)}.");
    }

    private static double Positive(string name, double value) =>
        value > 0 ? value : throw new ArgumentException($"{name} must be positive.");
}

/// <summary>What the tool offers: proposals through the API, or evidence records straight to evidence's queue.</summary>
public enum LoadMode
{
    Proposals,
    Evidence,
}
