using System.Net;
using System.Net.Sockets;

namespace ControlPlane.Chaos.Tests.Harness;

/// <summary>
/// Ports for the suite's own servers and services, below the kernel's ephemeral range (32768+): a port taken from
/// that range can be in use by an outgoing connection by the time a server binds it again after a restart.
/// </summary>
public static class FreePorts
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<int> Given = [];

    public static int Next()
    {
        lock (Gate)
        {
            for (var attempt = 0; attempt < 500; attempt++)
            {
                var port = Random.Shared.Next(20000, 32000);
                if (Given.Contains(port) || !CanBind(port))
                {
                    continue;
                }

                Given.Add(port);
                return port;
            }
        }

        throw new InvalidOperationException("no free port between 20000 and 32000");
    }

    private static bool CanBind(int port)
    {
        try
        {
            var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
            probe.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
