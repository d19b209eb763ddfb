using System.Globalization;
using ControlPlane.Evidence.Verification.Transparency;
using Npgsql;

namespace ControlPlane.Evidence.Transparency;

/// <summary>
/// Asks the witnesses in Evidence:Witnesses (Name, Url) to cosign each new checkpoint (c2sp.org/tlog-witness
/// add-checkpoint with a consistency proof from the size the witness last cosigned) and keeps their cosignatures.
/// A witness that is down or refuses is logged and asked again with the next checkpoint; it never blocks evidence.
/// </summary>
public sealed partial class WitnessClient(NpgsqlDataSource dataSource, EvidenceTree tree, IHttpClientFactory http, IConfiguration configuration,
    ILogger<WitnessClient> logger)
{
    private readonly IReadOnlyList<(string Name, Uri Url)> _witnesses = [.. configuration.GetSection("Evidence:Witnesses").GetChildren()
        .Where(w => !string.IsNullOrEmpty(w["Name"]) && Uri.TryCreate(w["Url"], UriKind.Absolute, out _))
        .Select(w => (w["Name"]!, new Uri(w["Url"]!.TrimEnd('/') + "/")))];

    public async Task CosignAsync(StoredCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        foreach (var (name, url) in _witnesses)
        {
            try
            {
                await CosignAsync(name, url, checkpoint, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogUnreachable(logger, name, ex.Message);
            }
        }
    }

    /// <summary>The cosignature lines kept for a checkpoint, in witness order, to append to its note.</summary>
    public async Task<string> LinesAsync(long size, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select line from evidence_cosignatures where tree_size = $1 order by witness");
        command.Parameters.Add(new() { Value = size });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var lines = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(reader.GetString(0));
        }

        return string.Concat(lines);
    }

    private async Task CosignAsync(string name, Uri url, StoredCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        using var client = http.CreateClient("witness");
        var oldSize = await LastCosignedSizeAsync(name, cancellationToken);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            if (oldSize > checkpoint.Size)
            {
                return;
            }

            var proof = await tree.ReadAsync(t => t.ConsistencyProof(oldSize, checkpoint.Size), cancellationToken);
            using var content = new StringContent(CheckpointWitness.Request(oldSize, oldSize == 0 ? [] : proof, checkpoint.Note));
            using var response = await client.PostAsync(new Uri(url, "add-checkpoint"), content, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                await KeepAsync(checkpoint.Size, name, body, cancellationToken);
                LogCosigned(logger, name, checkpoint.Size);
                return;
            }

            // 409 with text/x.tlog.size: the witness holds another size; prove consistency from that one.
            if ((int)response.StatusCode == 409 && response.Content.Headers.ContentType?.MediaType == CheckpointWitness.SizeContentType
                && long.TryParse(body.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var held) && held != oldSize)
            {
                oldSize = held;
                continue;
            }

            LogRefused(logger, name, checkpoint.Size, (int)response.StatusCode, body.Trim());
            return;
        }
    }

    private async Task<long> LastCosignedSizeAsync(string witness, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select coalesce(max(tree_size), 0) from evidence_cosignatures where witness = $1");
        command.Parameters.Add(new() { Value = witness });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private async Task KeepAsync(long size, string witness, string lines, CancellationToken cancellationToken)
    {
        // Keep only lines in the witness's name: a witness speaks for itself.
        var own = string.Concat(lines.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith($"\u2014 {witness} ", StringComparison.Ordinal)).Select(l => l + "\n"));
        if (own.Length == 0)
        {
            return;
        }

        await using var insert = dataSource.CreateCommand("insert into evidence_cosignatures (tree_size, witness, line) values ($1, $2, $3) on conflict do nothing");
        insert.Parameters.Add(new() { Value = size });
        insert.Parameters.Add(new() { Value = witness });
        insert.Parameters.Add(new() { Value = own });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Witness {Witness} cosigned the evidence checkpoint at size {Size}")]
    private static partial void LogCosigned(ILogger logger, string witness, long size);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Witness {Witness} refused the evidence checkpoint at size {Size}: {Status} {Reason}")]
    private static partial void LogRefused(ILogger logger, string witness, long size, int status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Witness {Witness} could not be reached ({Reason}); it is asked again with the next checkpoint")]
    private static partial void LogUnreachable(ILogger logger, string witness, string reason);
}
