namespace ControlPlane.Identity.Principals;

public enum WriteStatus
{
    Done,
    NotFound,
    Conflict,
    Invalid,
}

/// <summary>The outcome of a change: done with a value, or why not (mapped to 404, 409 or 400 problem details).</summary>
public sealed record WriteResult<T>(WriteStatus Status, T? Value, string? Title, string? Detail)
{
    public static WriteResult<T> Done(T value) => new(WriteStatus.Done, value, null, null);

    public static WriteResult<T> NotFound(string title, string detail) => new(WriteStatus.NotFound, default, title, detail);

    public static WriteResult<T> Conflict(string title, string detail) => new(WriteStatus.Conflict, default, title, detail);

    public static WriteResult<T> Invalid(string title, string detail) => new(WriteStatus.Invalid, default, title, detail);

    public IResult ToHttp(Func<T, IResult> done) => Status switch
    {
        WriteStatus.Done => done(Value!),
        WriteStatus.NotFound => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: Title, detail: Detail),
        WriteStatus.Conflict => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: Title, detail: Detail),
        _ => Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: Title, detail: Detail),
    };
}
