using ControlPlane.ServiceDefaults.Http;

namespace ControlPlane.Policy.Simulation;

/// <summary>Configuration section "Policy" (README.md, "Simulation").</summary>
public sealed class PolicyOptions
{
    public const string Section = "Policy";

    /// <summary>
    /// Policy's own workload identity for reading evidence when it simulates a bundle (an agent bound to viewer, i.e.
    /// evidence:read unscoped; demo seed: policy-simulator). Empty: simulation answers that it is not configured.
    /// </summary>
    public ServiceClientOptions ServiceClient { get; set; } = new();

    public ActivationOptions Activation { get; set; } = new();

    public SimulationOptions Simulation { get; set; } = new();
}

public sealed class ActivationOptions
{
    /// <summary>True: activating a bundle must name (simulationId) a simulation of that bundle that someone has viewed.</summary>
    public bool RequireSimulation { get; set; }
}

public sealed class SimulationOptions
{
    /// <summary>The most proposals one simulation replays (a window holding more replays its newest ones and says so).</summary>
    public int MaxProposals { get; set; } = 10_000;

    /// <summary>How many proposals' evidence is read from evidence at once.</summary>
    public int ReadConcurrency { get; set; } = 8;
}
