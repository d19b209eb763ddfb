using System.Net;
using System.Text;

namespace ControlPlane.Client.Tests;

/// <summary>Error answers become typed exceptions (pure: responses built here, no server).</summary>
public sealed class ProblemDetailsTests
{
    private static HttpResponseMessage Answer(HttpStatusCode status, string body, string mediaType = "application/problem+json") =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) };

    [Fact]
    public async Task A_429_carries_retry_after_and_a_400_its_field_errors()
    {
        using var limited = Answer(HttpStatusCode.TooManyRequests, """{"title":"Too many proposals","detail":"retry in 7 s.","status":429}""");
        limited.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
        using var invalid = Answer(HttpStatusCode.BadRequest, """{"title":"The proposal is not valid","errors":{"targets":["At least one."],"environment":["Unknown."]}}""");

        var rate = Assert.IsType<RateLimitedException>(await ProblemDetails.ToExceptionAsync(limited, default));
        var validation = Assert.IsType<ValidationProblemException>(await ProblemDetails.ToExceptionAsync(invalid, default));

        Assert.Equal(TimeSpan.FromSeconds(7), rate.RetryAfter);
        Assert.Equal("retry in 7 s.", rate.Detail);
        Assert.Equal(["At least one."], validation.Errors["targets"]);
        Assert.Contains("environment: Unknown.", validation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_not_a_problem_document_still_gives_the_status_and_the_start_of_the_text()
    {
        using var gateway = Answer(HttpStatusCode.BadGateway, "<html>" + new string('x', 1000) + "</html>", "text/html");

        var error = await ProblemDetails.ToExceptionAsync(gateway, default);

        var plane = Assert.IsType<ControlPlaneException>(error);
        Assert.Equal(HttpStatusCode.BadGateway, plane.Status);
        Assert.Equal(300, plane.Detail!.Length);
        Assert.Null(plane.Problem);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, typeof(AccessDeniedException))]
    [InlineData(HttpStatusCode.Forbidden, typeof(AccessDeniedException))]
    [InlineData(HttpStatusCode.NotFound, typeof(NotFoundException))]
    [InlineData(HttpStatusCode.Conflict, typeof(ConflictException))]
    [InlineData(HttpStatusCode.ServiceUnavailable, typeof(ControlPlaneException))]
    public async Task Each_status_maps_to_its_exception(HttpStatusCode status, Type expected)
    {
        using var response = Answer(status, """{"title":"t","detail":"d"}""");

        var error = await ProblemDetails.ToExceptionAsync(response, default);

        Assert.Equal(expected, error.GetType());
        Assert.Equal(("t", "d"), (((ControlPlaneException)error).Title, ((ControlPlaneException)error).Detail));
    }
}
