using ControlPlane.ServiceDefaults.Health;

namespace ControlPlane.Witness.Witnessing;

/// <summary>The tlog-witness HTTP interface: add-checkpoint, and the witness's public key for verifiers.</summary>
public static class WitnessApi
{
    private const int MaxBody = 64 * 1024;

    public static void AddWitness(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<LogKeyPins>();
        builder.Services.AddSingleton<WitnessBook>();
        builder.Services.AddHttpClient(LogKeyPins.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
    }

    public static IEndpointRouteBuilder MapWitnessApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/add-checkpoint", AddCheckpointAsync)
            .AllowAnonymous().WithMetadata(new AnonymousByDesign("tlog-witness: the checkpoint's log signature is the authentication"))
            .WithSummary("Cosign a checkpoint that extends the last one cosigned for its log (c2sp.org/tlog-witness)");
        app.MapGet("/key", (WitnessBook book) => Results.Text(book.PublicKey + "\n", "text/plain; charset=utf-8"))
            .AllowAnonymous().WithMetadata(new AnonymousByDesign("the witness's public key, for verifiers"))
            .WithSummary("The witness's name and Ed25519 public key, as name+base64");
        return app;
    }

    private static async Task<IResult> AddCheckpointAsync(HttpRequest request, WitnessBook book, CancellationToken ct)
    {
        if (request.ContentLength > MaxBody)
        {
            return Results.Text("the request is larger than a checkpoint and its proof can be\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(ct);
        var answer = await book.AddCheckpointAsync(body, ct);
        return Results.Text(answer.Body, answer.ContentType, statusCode: answer.Status);
    }
}
