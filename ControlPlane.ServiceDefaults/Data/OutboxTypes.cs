using System.Collections.Frozen;
using System.Text.Json;
using ControlPlane.Contracts;

namespace ControlPlane.ServiceDefaults.Data;

/// <summary>
/// The message types the outbox may carry: only records of ControlPlane.Contracts, looked up by full name, so a
/// row in the database can never make the relay instantiate an arbitrary type.
/// </summary>
public static class OutboxTypes
{
    public static readonly JsonSerializerOptions Json = ContractJson.Options;

    private static readonly FrozenDictionary<string, Type> Types = typeof(ContractJson).Assembly.GetExportedTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false, Namespace: not null } && t.Namespace.StartsWith("ControlPlane.Contracts", StringComparison.Ordinal))
        .ToFrozenDictionary(t => t.FullName!, StringComparer.Ordinal);

    public static string NameOf(Type type) => Types.ContainsKey(type.FullName ?? string.Empty)
        ? type.FullName!
        : throw new ArgumentException($"{type} is not a ControlPlane.Contracts message and cannot go through the outbox.", nameof(type));

    public static Type Resolve(string name) => Types.TryGetValue(name, out var type)
        ? type
        : throw new InvalidOperationException($"The outbox holds a message of unknown type '{name}'.");
}
