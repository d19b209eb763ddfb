using System.Diagnostics;
using ControlPlane.ServiceDefaults.Telemetry;

namespace ControlPlane.ServiceDefaults.Tests.Unit;

/// <summary>A proposal's later steps join the trace it was submitted under, and keep a link to what resumed them.</summary>
public sealed class TraceContinuationTests : IDisposable
{
    private readonly ActivitySource _source = new("ControlPlane.Tests.TraceContinuation");
    private readonly ActivityListener _listener;

    public TraceContinuationTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s == _source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public void A_step_resumed_elsewhere_continues_the_stored_trace_and_links_the_cause()
    {
        string stored;
        using (var submit = _source.StartActivity("POST /proposals"))
        {
            stored = TraceContinuation.Capture()!;
            Assert.Equal(submit!.Id, stored);
        }

        using var approval = _source.StartActivity("POST /approvals");
        using var step = TraceContinuation.Start(_source, "proposal approve", stored);

        Assert.NotNull(step);
        Assert.Equal(ActivityContext.Parse(stored, null).TraceId, step.TraceId);
        Assert.Equal(ActivityContext.Parse(stored, null).SpanId, step.ParentSpanId);
        var link = Assert.Single(step.Links);
        Assert.Equal(approval!.SpanId, link.Context.SpanId);
    }

    [Fact]
    public void A_step_already_in_the_trace_is_an_ordinary_child_without_a_link()
    {
        using var consumer = _source.StartActivity("policy-decided process");
        using var step = TraceContinuation.Start(_source, "proposal decide", consumer!.Id);

        Assert.Equal(consumer.SpanId, step!.ParentSpanId);
        Assert.Empty(step.Links);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-traceparent")]
    public void Without_a_usable_stored_trace_the_step_is_a_child_of_the_current_span(string? stored)
    {
        using var timer = _source.StartActivity("timer");
        using var step = TraceContinuation.Start(_source, "proposal expire", stored);

        Assert.Equal(timer!.TraceId, step!.TraceId);
        Assert.Equal(timer.SpanId, step.ParentSpanId);
    }

    [Fact]
    public void Nothing_is_captured_outside_a_span()
    {
        Activity.Current = null;
        Assert.Null(TraceContinuation.Capture());
    }

    public void Dispose()
    {
        _listener.Dispose();
        _source.Dispose();
    }
}
