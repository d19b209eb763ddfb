using System.Net;
using System.Net.Sockets;

namespace ControlPlane.Orchestrator.AgentNotifications;

/// <summary>
/// Keeps agent webhooks off the plane's own network (server-side request forgery): unless private networks are
/// allowed (Development, or Orchestrator:Webhooks:AllowPrivateNetworks), a delivery connects only to a public address,
/// never loopback, private (RFC 1918, fc00::/7), link-local (cloud metadata at 169.254.169.254), shared (100.64/10),
/// "this network", unspecified or multicast. Checked where the connection is made, after DNS, so a name that
/// resolves to an internal address later (DNS rebinding) is refused too.
/// </summary>
public static class WebhookAddressGuard
{
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] is 0 or 10 or 127 or >= 224
                || (b[0] == 100 && (b[1] & 0xC0) == 64)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && (b[1] & 0xF0) == 16)
                || (b[0] == 192 && b[1] == 168));
        }

        return !(address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
            || address.IsIPv6UniqueLocal);
    }

    /// <summary>The handler deliveries go through: no redirects, and connections only to addresses the guard allows.</summary>
    public static SocketsHttpHandler Handler(bool allowPrivateNetworks) => new()
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
            var allowed = allowPrivateNetworks ? addresses : [.. addresses.Where(IsPublic)];
            if (allowed.Length == 0)
            {
                throw new HttpRequestException(
                    $"'{host}' resolves to no public address; webhooks are not delivered into private networks (Orchestrator:Webhooks:AllowPrivateNetworks)");
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
