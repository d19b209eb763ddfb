using ControlPlane.ServiceDefaults.Health;

namespace ControlPlane.Orchestrator.BusContract;

/// <summary>
/// Serves the AsyncAPI 3.0 document of the bus contract (asyncapi.yaml beside this file, embedded), so an agent
/// written in any language can learn the exchanges, queues, messages, headers and errors from the running plane.
/// </summary>
public static class BusContractApi
{
    public const string Path = "/asyncapi.yaml";
    public const string ContentType = "application/yaml";
    public const string ResourceName = "ControlPlane.Orchestrator.BusContract.asyncapi.yaml";

    private static readonly Lazy<string> Document = new(Read);

    public static IEndpointRouteBuilder MapBusContract(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, () => Results.Text(Document.Value, ContentType))
            .AllowAnonymous().WithMetadata(new AnonymousByDesign("the bus contract (AsyncAPI), public like an OpenAPI document"))
            .WithTags("Bus").WithSummary("The AsyncAPI 3.0 document of the bus contract for agents in any language");
        return app;
    }

    /// <summary>The document as shipped in this assembly.</summary>
    public static string Read()
    {
        using var stream = typeof(BusContractApi).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded in {typeof(BusContractApi).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
