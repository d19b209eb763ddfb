using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace ControlPlane.Testing;

/// <summary>
/// A loopback TCP forwarder in front of a real server. Stopping it cuts every connection and refuses new ones,
/// which is how tests make PostgreSQL or Redis "unreachable" for one service without stopping the shared server.
/// In front of several replicas it is one address for all, as a Kubernetes Service is: each new connection goes to the
/// next replica in turn, or to another one when that replica refuses (killed).
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly string _targetHost;
    private readonly int[] _targetPorts;
    private int _next;
    private readonly ConcurrentDictionary<TcpClient, byte> _connections = new();
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;

    public TcpProxy(string targetHost, int targetPort)
        : this(targetHost, [targetPort])
    {
    }

    public TcpProxy(string targetHost, IReadOnlyList<int> replicaPorts)
    {
        ArgumentOutOfRangeException.ThrowIfZero(replicaPorts.Count);
        _targetHost = targetHost;
        _targetPorts = [.. replicaPorts];
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
    }

    public int Port { get; }

    public void Start()
    {
        _stop = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _ = AcceptLoopAsync(_listener, _stop.Token);
    }

    public void Stop()
    {
        _stop?.Cancel();
        _listener?.Stop();
        foreach (var connection in _connections.Keys)
        {
            connection.Close();
        }

        _connections.Clear();
    }

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = PipeAsync(inbound, ct);
        }
    }

    private async Task PipeAsync(TcpClient inbound, CancellationToken ct)
    {
        var outbound = new TcpClient();
        _connections[inbound] = 0;
        _connections[outbound] = 0;
        try
        {
            var first = Interlocked.Increment(ref _next);
            for (var i = 0; ; i++)
            {
                try
                {
                    await outbound.ConnectAsync(_targetHost, _targetPorts[(int)((uint)(first + i) % (uint)_targetPorts.Length)], ct);
                    break;
                }
                catch (SocketException) when (i + 1 < _targetPorts.Length)
                {
                    outbound.Dispose();
                    _connections.TryRemove(outbound, out _);
                    outbound = new TcpClient();
                    _connections[outbound] = 0;
                }
            }

            var a = inbound.GetStream().CopyToAsync(outbound.GetStream(), ct);
            var b = outbound.GetStream().CopyToAsync(inbound.GetStream(), ct);
            await Task.WhenAny(a, b);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // a cut connection is the point of this class
        }
        finally
        {
            _connections.TryRemove(inbound, out _);
            _connections.TryRemove(outbound, out _);
            inbound.Close();
            outbound.Close();
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }
}
