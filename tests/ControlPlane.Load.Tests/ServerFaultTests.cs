using System.Net;
using System.Text.Json;
using ControlPlane.Client;

namespace ControlPlane.Load.Tests;

/// <summary>Server faults are named with the trace id of their problem; refusals the plane means to give are not.</summary>
public sealed class ServerFaultTests
{
    private static ControlPlaneException Problem(HttpStatusCode status, string json) =>
        new(status, "Title", null, new Dictionary<string, string[]>(), JsonDocument.Parse(json).RootElement.Clone());

    [Fact]
    public void A_500_is_named_with_its_trace_id()
    {
        var line = ServerFault.Describe(Problem(HttpStatusCode.InternalServerError, """{"title":"Title","traceId":"4bf92f3577b34da6a3ce929d0e0e4736"}"""), 41);
        Assert.Equal("server fault on submission 41: 500 Title; trace 4bf92f3577b34da6a3ce929d0e0e4736 (dashboard: Structured logs / Traces, filter by it)", line);
    }

    [Fact]
    public void A_503_without_a_problem_body_says_so()
    {
        var line = ServerFault.Describe(new ControlPlaneException(HttpStatusCode.ServiceUnavailable, null, null, new Dictionary<string, string[]>(), null), 7);
        Assert.Equal("server fault on submission 7: 503 ServiceUnavailable (no trace id in the answer)", line);
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Conflict)]
    public void Refusals_below_500_are_not_faults(HttpStatusCode status) =>
        Assert.Null(ServerFault.Describe(Problem(status, """{"traceId":"x"}"""), 1));

    [Fact]
    public void Transport_errors_are_not_server_faults() =>
        Assert.Null(ServerFault.Describe(new HttpRequestException("connection refused"), 1));
}
