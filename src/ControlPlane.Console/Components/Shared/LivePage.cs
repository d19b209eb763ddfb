using ControlPlane.Console.Plane;
using ControlPlane.Console.SignIn;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.AspNetCore.Components;

namespace ControlPlane.Console.Components.Shared;

/// <summary>
/// A page that reads the plane as the signed-in human and reads it again every Console:RefreshInterval, so it
/// follows a proposal as it moves. A refusal or an outage is shown on the page, never thrown.
/// </summary>
public abstract class LivePage : ComponentBase, IDisposable
{
    private readonly CancellationTokenSource _stop = new();

    [Inject]
    protected PlaneClient Plane { get; set; } = null!;

    [Inject]
    protected HumanContext Human { get; set; } = null!;

    [Inject]
    private IConfiguration Configuration { get; set; } = null!;

    protected Caller Caller { get; private set; } = null!;

    protected string? Error { get; set; }

    /// <summary>The last action's refusal (an approval, a kill switch), kept until the next action.</summary>
    protected string? ActionError { get; private set; }

    protected bool SessionEnded { get; private set; }

    protected bool Loaded { get; private set; }

    protected override async Task OnInitializedAsync()
    {
        Caller = await Human.CallerAsync();
        await RefreshAsync();
        _ = PollAsync();
    }

    protected abstract Task LoadAsync(CancellationToken ct);

    /// <summary>Runs <paramref name="action"/> (an approval, a kill switch) and shows its refusal on the page.</summary>
    protected async Task<bool> ActAsync(Func<CancellationToken, Task> action)
    {
        ActionError = null;
        var ok = await GuardAsync(action);
        if (!ok)
        {
            (ActionError, Error) = (Error, null);
        }

        await RefreshAsync();
        return ok;
    }

    protected async Task RefreshAsync()
    {
        if (await GuardAsync(LoadAsync))
        {
            Error = null;
        }

        Loaded = true;
    }

    private async Task<bool> GuardAsync(Func<CancellationToken, Task> action)
    {
        try
        {
            await action(_stop.Token);
            return true;
        }
        catch (SessionExpiredException ex)
        {
            SessionEnded = true;
            Error = ex.Message;
        }
        catch (PlaneException ex)
        {
            Error = ex.Message;
        }
        catch (HttpRequestException ex)
        {
            Error = $"A service did not answer: {ex.Message}";
        }
        catch (TaskCanceledException) when (!_stop.IsCancellationRequested)
        {
            Error = "A service did not answer in time.";
        }

        return false;
    }

    private async Task PollAsync()
    {
        var interval = Configuration.GetValue("Console:RefreshInterval", TimeSpan.FromSeconds(2));
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token) && !SessionEnded)
            {
                await InvokeAsync(async () =>
                {
                    await RefreshAsync();
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
