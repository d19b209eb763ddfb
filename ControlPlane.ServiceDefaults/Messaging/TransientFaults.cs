using System.Net.Http;
using System.Net.Sockets;
using Npgsql;
using StackExchange.Redis;

namespace ControlPlane.ServiceDefaults.Messaging;

/// <summary>
/// Tells a passing outage (a dependency that is down, restarting or overloaded) from a fault that retrying cannot
/// fix. A transient fault is never a verdict: the caller waits and tries again; anything else is handled once.
/// </summary>
public static class TransientFaults
{
    // PostgreSQL SQLSTATEs that mean "try again later": connection exceptions (08), serialization failure and
    // deadlock (40001, 40P01), too many connections / out of resources (53), operator intervention such as
    // admin shutdown and "the database system is starting up" (57P01-57P05).
    private static readonly string[] TransientSqlStatePrefixes = ["08", "53", "57P", "40001", "40P01"];

    public static bool IsTransient(Exception? exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                case MessageRejectedException:
                    return false;
                case PostgresException pg:
                    return TransientSqlStatePrefixes.Any(p => pg.SqlState.StartsWith(p, StringComparison.Ordinal));
                case NpgsqlException npgsql when npgsql.IsTransient:
                case RedisConnectionException or RedisTimeoutException:
                case SocketException or TimeoutException:
                case HttpRequestException:
                case TransientDependencyException:
                case Polly.CircuitBreaker.BrokenCircuitException:
                case Polly.Timeout.TimeoutRejectedException:
                    return true;
                case AggregateException aggregate:
                    return aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsTransient);
            }

            // RabbitMQ.Client and MassTransit transport exceptions are named, not referenced: the services do not
            // all reference the broker client, and a lost broker connection is always worth waiting for.
            var name = ex.GetType().FullName ?? string.Empty;
            if (name.StartsWith("RabbitMQ.Client.Exceptions.", StringComparison.Ordinal) ||
                name is "MassTransit.RabbitMqConnectionException" or "MassTransit.ConnectionException")
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>A dependency (another service, a key set, a lease store) is unavailable for now: retry, never refuse.</summary>
public sealed class TransientDependencyException(string message, Exception? inner = null) : Exception(message, inner);
