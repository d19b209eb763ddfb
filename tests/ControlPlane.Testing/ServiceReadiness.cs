namespace ControlPlane.Testing;

public static class ServiceReadiness
{
    /// <summary>
    /// Starts the service and waits until /health answers 200: migrations applied, database reachable, bus
    /// connected with its receive endpoints bound (so a message published afterwards reaches its consumers).
    /// </summary>
    public static async Task WaitUntilReadyAsync<TEntryPoint>(this ServiceHost<TEntryPoint> host, TimeSpan? timeout = null) where TEntryPoint : class
    {
        ArgumentNullException.ThrowIfNull(host);
        using var http = host.CreateHttpClient();
        await Eventually.UntilAsync(async () =>
        {
            using var response = await http.GetAsync("health");
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }, r => r.StartsWith("200 ", StringComparison.Ordinal), timeout ?? TimeSpan.FromSeconds(60), $"{typeof(TEntryPoint).Name} /health to answer 200");
    }
}
