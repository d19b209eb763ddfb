namespace ControlPlane.Testing;

/// <summary>Waits for an asynchronous effect (a message consumed, a state reached), then fails with what was last seen.</summary>
public static class Eventually
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        T last;
        while (true)
        {
            last = await probe();
            if (done(last))
            {
                return last;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}; last value: {Describe(last)}");
            }

            await Task.Delay(100);
        }
    }

    public static Task UntilAsync(Func<Task<bool>> probe, TimeSpan timeout, string what) =>
        UntilAsync(probe, ok => ok, timeout, what);

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        string s => s,
        _ => System.Text.Json.JsonSerializer.Serialize(value, Contracts.ContractJson.Options),
    };
}
