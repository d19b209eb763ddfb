using System.Net.Http;
using System.Net.Sockets;
using ControlPlane.ServiceDefaults.Messaging;
using Npgsql;
using StackExchange.Redis;

namespace ControlPlane.ServiceDefaults.Tests.Unit;

/// <summary>Which failures the shared retry policy waits out and which go to _error quickly.</summary>
public sealed class TransientFaultsTests
{
    public static TheoryData<string> TransientSqlStates => ["57P03", "57P01", "08006", "08001", "53300", "40001", "40P01"];

    public static TheoryData<string> PermanentSqlStates => ["23505", "42P01", "22P02", "42501"];

    [Theory]
    [MemberData(nameof(TransientSqlStates))]
    public void A_database_that_is_starting_up_or_unreachable_is_transient(string sqlState) =>
        Assert.True(TransientFaults.IsTransient(new PostgresException("the database system is starting up", "FATAL", "FATAL", sqlState)));

    [Theory]
    [MemberData(nameof(PermanentSqlStates))]
    public void A_constraint_or_syntax_error_is_not_transient(string sqlState) =>
        Assert.False(TransientFaults.IsTransient(new PostgresException("no", "ERROR", "ERROR", sqlState)));

    [Fact]
    public void Connection_failures_of_every_dependency_are_transient()
    {
        Assert.True(TransientFaults.IsTransient(new NpgsqlException("refused", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.True(TransientFaults.IsTransient(new RedisConnectionException(ConnectionFailureType.UnableToConnect, "down")));
        Assert.True(TransientFaults.IsTransient(new HttpRequestException("fleet is restarting")));
        Assert.True(TransientFaults.IsTransient(new TimeoutException()));
        Assert.True(TransientFaults.IsTransient(new InvalidOperationException("wrapped", new SocketException((int)SocketError.ConnectionRefused))));
    }

    [Fact]
    public void Rejections_and_ordinary_bugs_are_not_transient()
    {
        Assert.False(TransientFaults.IsTransient(new MessageRejectedException("bad message")));
        Assert.False(TransientFaults.IsTransient(new InvalidOperationException("a bug")));
        Assert.False(TransientFaults.IsTransient(new ArgumentException("bad")));
        Assert.False(TransientFaults.IsTransient(null));
    }
}
