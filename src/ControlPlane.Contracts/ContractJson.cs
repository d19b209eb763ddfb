using System.Text.Json;
using System.Text.Json.Serialization;

namespace ControlPlane.Contracts;

/// <summary>
/// The JSON shape of everything on the wire (bus, HTTP, outbox, evidence): camelCase names, enums as
/// kebab-case strings ("awaiting-approval", "require-approval"), nulls omitted.
/// </summary>
public static class ContractJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        if (!options.Converters.Any(c => c is JsonStringEnumConverter))
        {
            options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
        }

        return options;
    }
}
