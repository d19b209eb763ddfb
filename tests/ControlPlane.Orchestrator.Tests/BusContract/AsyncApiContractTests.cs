using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.BusContract;
using ControlPlane.Orchestrator.Consumers;
using ControlPlane.ServiceDefaults.Messaging;
using YamlDotNet.Serialization;

namespace ControlPlane.Orchestrator.Tests.BusContract;

/// <summary>
/// The AsyncAPI document shipped with orchestrator against the code it describes: every schema marked
/// x-dotnet-type has exactly the record's wire properties (names as ContractJson writes them, required = not
/// nullable, JSON types and $refs matching the CLR types), enums list exactly the wire values, and the exchange,
/// queue and header names are the ones the bus uses. Change a record and this fails until the document follows.
/// </summary>
public sealed class AsyncApiContractTests
{
    private static readonly Assembly Contracts = typeof(SubmitProposal).Assembly;
    private static readonly JsonObject Document = Load(BusContractApi.Read());
    private static readonly JsonObject Schemas = Document["components"]!["schemas"]!.AsObject();

    public static JsonObject Load(string yaml)
    {
        var graph = new DeserializerBuilder().Build().Deserialize<object>(yaml);
        var json = new SerializerBuilder().JsonCompatible().Build().Serialize(graph);
        return JsonNode.Parse(json)!.AsObject();
    }

    public static TheoryData<string> DescribedTypes()
    {
        var data = new TheoryData<string>();
        foreach (var (_, schema) in Schemas)
        {
            if (schema?["x-dotnet-type"]?.GetValue<string>() is { } type)
            {
                data.Add(type);
            }
        }

        return data;
    }

    [Fact]
    public void It_is_AsyncAPI_3_and_describes_the_submit_command_and_the_events_an_agent_follows()
    {
        Assert.Equal("3.0.0", Document["asyncapi"]!.GetValue<string>());
        var described = DescribedTypes().Select(d => (string)d.Data).ToHashSet();
        foreach (var type in new[] { typeof(SubmitProposal), typeof(ProposalAccepted), typeof(ProposalSubmissionRefused), typeof(ProposalSubmitted), typeof(ProposalStateChanged) })
        {
            Assert.Contains(type.FullName!, described);
        }
    }

    [Theory]
    [MemberData(nameof(DescribedTypes))]
    public void Each_described_schema_matches_its_record_property_by_property(string typeName)
    {
        var type = Contracts.GetType(typeName) ?? throw new Xunit.Sdk.XunitException($"x-dotnet-type {typeName} is not a type in {Contracts.GetName().Name}");
        var schema = SchemaFor(type);

        if (type.IsEnum)
        {
            var wire = Enum.GetValues(type).Cast<object>().Select(v => JsonSerializer.SerializeToElement(v, type, ContractJson.Options).GetString()!).ToList();
            Assert.Equal(wire, schema["enum"]!.AsArray().Select(v => v!.GetValue<string>()).ToList());
            return;
        }

        var properties = ContractJson.Options.GetTypeInfo(type).Properties;
        var documented = schema["properties"]!.AsObject();
        Assert.Equal(properties.Select(p => p.Name).Order(StringComparer.Ordinal), documented.Select(p => p.Key).Order(StringComparer.Ordinal));

        var nullability = new NullabilityInfoContext();
        var required = properties.Where(p => nullability.Create((PropertyInfo)p.AttributeProvider!).ReadState != NullabilityState.Nullable).Select(p => p.Name);
        Assert.Equal(required.Order(StringComparer.Ordinal), (schema["required"]?.AsArray().Select(r => r!.GetValue<string>()) ?? []).Order(StringComparer.Ordinal));

        foreach (var property in properties)
        {
            AssertDescribes(documented[property.Name]!, property.PropertyType, $"{typeName}.{property.Name}");
        }
    }

    [Fact]
    public void Exchange_queue_and_header_names_are_the_ones_the_bus_uses()
    {
        var channels = Document["channels"]!.AsObject();
        Assert.Equal(SubmitProposalConsumer.Queue, channels["submitProposalQueue"]!["address"]!.GetValue<string>());
        Assert.Equal(SubmitProposalConsumer.Queue + "_error", channels["submitProposalErrors"]!["address"]!.GetValue<string>());
        Assert.Contains(PlaneTopology.Bindings, b => b.Message == typeof(SubmitProposal) && b.Queue == SubmitProposalConsumer.Queue);
        Assert.Equal([MessageHeaders.AgentToken], Schemas["AgentTokenHeaders"]!["required"]!.AsArray().Select(r => r!.GetValue<string>()));

        // A message-type exchange is named namespace:type (MassTransit's entity name) and carries that type's schema.
        foreach (var (name, channel) in channels)
        {
            var address = channel!["address"]!.GetValue<string>();
            if (!address.StartsWith(typeof(SubmitProposal).Namespace + ":", StringComparison.Ordinal))
            {
                continue;
            }

            var type = Contracts.GetType(address.Replace(':', '.'), throwOnError: false) ?? throw new Xunit.Sdk.XunitException($"channel {name}: no message type {address}");
            var payloads = channel["messages"]!.AsObject().Select(m => Resolve(m.Value!)["payload"]!).ToList();
            Assert.Contains(payloads, p => p["$ref"]?.GetValue<string>() == $"#/components/schemas/{type.Name}");
        }
    }

    [Fact]
    public void Every_reference_in_the_document_resolves()
    {
        var references = new List<string>();
        Collect(Document, references);
        Assert.NotEmpty(references);
        Assert.All(references, r => Assert.NotNull(Resolve(new JsonObject { ["$ref"] = r })));
    }

    private static JsonObject SchemaFor(Type type) =>
        Schemas.Select(s => s.Value!.AsObject()).SingleOrDefault(s => s["x-dotnet-type"]?.GetValue<string>() == type.FullName)
        ?? throw new Xunit.Sdk.XunitException($"no schema has x-dotnet-type {type.FullName}");

    private static void AssertDescribes(JsonNode property, Type clr, string where)
    {
        clr = Nullable.GetUnderlyingType(clr) ?? clr;
        if (property["$ref"]?.GetValue<string>() is { } reference)
        {
            Assert.True(Resolve(property)["x-dotnet-type"]?.GetValue<string>() == clr.FullName, $"{where}: {reference} does not describe {clr.FullName}");
            return;
        }

        var types = property["type"] is JsonArray list ? list.Select(t => t!.GetValue<string>()).ToList() : [property["type"]!.GetValue<string>()];
        var json = types.Single(t => t != "null");
        var (expected, format) = clr switch
        {
            _ when clr == typeof(string) => ("string", null),
            _ when clr == typeof(Guid) => ("string", "uuid"),
            _ when clr == typeof(DateTimeOffset) => ("string", "date-time"),
            _ when clr == typeof(long) => ("integer", "int64"),
            _ when clr == typeof(int) => ("integer", null),
            _ when clr == typeof(bool) => ("boolean", null),
            _ when clr.IsGenericType && clr.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) => ("object", null),
            _ when clr.IsGenericType && clr.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) => ("array", (string?)null),
            _ => throw new Xunit.Sdk.XunitException($"{where}: {clr} needs a $ref to a schema with x-dotnet-type"),
        };
        Assert.True(expected == json, $"{where}: documented as {json}, the record has {clr.Name} ({expected})");
        Assert.True(format is null || property["format"]?.GetValue<string>() == format, $"{where}: format should be {format}");
        if (expected == "array")
        {
            AssertDescribes(property["items"]!, clr.GetGenericArguments()[0], where + "[]");
        }
        else if (expected == "object")
        {
            AssertDescribes(property["additionalProperties"]!, clr.GetGenericArguments()[1], where + "{}");
        }
    }

    private static JsonObject Resolve(JsonNode node)
    {
        if (node["$ref"]?.GetValue<string>() is not { } reference)
        {
            return node.AsObject();
        }

        Assert.StartsWith("#/", reference, StringComparison.Ordinal);
        JsonNode? current = Document;
        foreach (var segment in reference[2..].Split('/'))
        {
            current = current?[segment];
        }

        return current?.AsObject() ?? throw new Xunit.Sdk.XunitException($"{reference} does not resolve");
    }

    private static void Collect(JsonNode? node, List<string> references)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    if (key == "$ref")
                    {
                        references.Add(value!.GetValue<string>());
                    }
                    else
                    {
                        Collect(value, references);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Collect(item, references);
                }

                break;
        }
    }
}
