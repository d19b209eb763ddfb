using System.Text.Json;

namespace ControlPlane.Load.Tests;

/// <summary>The evidence-append mode's options and envelope, and how service memory is found in /proc.</summary>
public sealed class LoadModeTests
{
    [Fact]
    public void Mode_defaults_to_proposals_and_takes_evidence()
    {
        Assert.Equal(LoadMode.Proposals, LoadOptions.Parse([]).Mode);
        var options = LoadOptions.Parse(["--mode", "evidence", "--rate", "5000", "--plane-amqp", "amqp://guest:guest@127.0.0.1:5672/cp_x"]);
        Assert.Equal(LoadMode.Evidence, options.Mode);
        Assert.Equal(5000, options.Rate);
        Assert.Equal("/cp_x", options.PlaneBus!.AbsolutePath);
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--mode", "chaos"]));
    }

    [Fact]
    public void The_plane_bus_is_the_vhost_run_sh_chose_for_this_clone()
    {
        var root = Directory.CreateTempSubdirectory("load-root").FullName;
        try
        {
            var broker = new Uri("amqp://guest:guest@127.0.0.1:5672/");
            Assert.Equal("/", LoadOptions.DefaultPlaneBus(broker, root).AbsolutePath);

            Directory.CreateDirectory(Path.Combine(root, ".state"));
            File.WriteAllText(Path.Combine(root, ".state", "db-prefix"), "cp_1a2b3c4d_");
            var bus = LoadOptions.DefaultPlaneBus(broker, root);
            Assert.Equal("/cp_1a2b3c4d", bus.AbsolutePath);
            Assert.Equal("guest:guest", bus.UserInfo);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void The_envelope_is_a_masstransit_proposal_state_change_by_the_load_actor()
    {
        var proposal = Guid.NewGuid();
        var at = new DateTimeOffset(2026, 12, 4, 18, 0, 0, TimeSpan.Zero);

        var (messageId, body) = EvidenceLoad.Envelope(proposal, 2, at);

        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal(messageId, root.GetProperty("messageId").GetGuid());
        Assert.Equal("urn:message:ControlPlane.Contracts:ProposalStateChanged", root.GetProperty("messageType")[0].GetString());
        var message = root.GetProperty("message");
        Assert.Equal(proposal, message.GetProperty("proposalId").GetGuid());
        Assert.Equal("assessing", message.GetProperty("from").GetString());
        Assert.Equal("awaiting-approval", message.GetProperty("to").GetString());
        Assert.Equal(EvidenceLoad.Actor, message.GetProperty("actor").GetString());
        Assert.Equal(2, message.GetProperty("version").GetInt64());
        Assert.Equal(at, message.GetProperty("at").GetDateTimeOffset());
        Assert.NotEqual(messageId, EvidenceLoad.Envelope(proposal, 2, at).MessageId);
        // As the outbox makes message ids: version 7, so the inbox index grows in time order as it does for the plane.
        Assert.Equal(7, messageId.Version);
        Assert.True(EvidenceLoad.Envelope(proposal, 2, at.AddSeconds(1)).MessageId.CompareTo(messageId) > 0);
    }

    [Fact]
    public void Listening_sockets_are_read_by_port_and_other_states_are_ignored()
    {
        string[] lines =
        [
            "   0: 0100007F:13ED 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0",
            "   1: 0100007F:13ED 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 5151 1 0000000000000000 20 4 30 10 -1",
            "   2: 00000000000000000000000000000000:13F0 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0 100 0 0 10 0",
            "garbage",
        ];

        var listening = ServiceMemory.ParseListening(lines);

        Assert.Equal([4242L], listening[5101]);
        Assert.Equal([777L], listening[5104]);
        Assert.Equal(2, listening.Count);
    }

    [Fact]
    public void Resident_sizes_are_read_in_bytes()
    {
        string[] status = ["Name:\tdotnet", "VmPeak:\t  999 kB", "VmRSS:\t  123456 kB", "RssAnon:\t   60000 kB", "Threads:\t 20"];
        Assert.Equal(123_456L * 1024, ServiceMemory.ParseKb(status, "VmRSS:"));
        Assert.Equal(60_000L * 1024, ServiceMemory.ParseKb(status, "RssAnon:"));
        Assert.Null(ServiceMemory.ParseKb(["Name:\tkthreadd"], "VmRSS:"));
    }

    [Fact]
    public void This_process_is_found_by_its_listening_socket()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;

        var found = ServiceMemory.Read([("self", port)]);

        var self = Assert.Single(found);
        Assert.Equal(Environment.ProcessId, self.ProcessId);
        Assert.True(self.RssBytes > 0);
        Assert.True(self.AnonBytes > 0 && self.AnonBytes <= self.RssBytes);
    }
}
