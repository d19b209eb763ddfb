using System.Net.Sockets;
using System.Text.Json;
using ControlPlane.ServiceDefaults.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ControlPlane.ServiceDefaults.Tests.Unit;

/// <summary>A request that failed on a passing outage is answered 503 with Retry-After and a problem; anything else is left to the next handler.</summary>
public sealed class TransientFaultHandlerTests
{
    private static async Task<(bool Handled, HttpContext Context, string Body)> HandleAsync(Exception exception)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "POST";
        context.Request.Path = "/proposals";
        context.Response.Body = new MemoryStream();
        var handler = new TransientFaultExceptionHandler(services.GetRequiredService<Microsoft.AspNetCore.Http.IProblemDetailsService>(),
            NullLogger<TransientFaultExceptionHandler>.Instance);

        var handled = await handler.TryHandleAsync(context, exception, CancellationToken.None);
        context.Response.Body.Position = 0;
        return (handled, context, await new StreamReader(context.Response.Body).ReadToEndAsync());
    }

    [Fact]
    public async Task An_unreachable_database_is_503_with_retry_after()
    {
        var (handled, context, body) = await HandleAsync(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)));

        Assert.True(handled);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal(TransientFaultExceptionHandler.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), context.Response.Headers.RetryAfter.ToString());
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(503, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("Temporarily unavailable", problem.RootElement.GetProperty("title").GetString());
        Assert.DoesNotContain("Failed to connect", body, StringComparison.Ordinal); // the dependency's message stays in the log
    }

    [Fact]
    public async Task A_pool_wait_that_timed_out_is_503()
    {
        var (handled, context, _) = await HandleAsync(new NpgsqlException("The connection pool has been exhausted", new TimeoutException()));

        Assert.True(handled);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
    }

    [Fact]
    public async Task A_bug_is_left_to_the_default_handler()
    {
        var (handled, context, body) = await HandleAsync(new InvalidOperationException("a bug"));

        Assert.False(handled);
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode); // untouched: the middleware answers 500
        Assert.Empty(body);
        Assert.False(context.Response.Headers.ContainsKey("Retry-After"));
    }

    [Fact]
    public async Task A_constraint_violation_is_not_an_outage()
    {
        var (handled, _, _) = await HandleAsync(new PostgresException("duplicate key", "ERROR", "ERROR", "23505"));

        Assert.False(handled);
    }
}
