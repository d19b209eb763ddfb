using System.Text.Json;
using ControlPlane.Contracts;
using ModelContextProtocol.Protocol;

namespace ControlPlane.Orchestrator.Mcp;

/// <summary>
/// Tool answers: JSON in the plane's wire shape (kebab-case states, as HTTP), or an MCP tool error (isError) whose text
/// is exactly the problem HTTP would give, so a model reads the same reason either way.
/// </summary>
public static class ToolResults
{
    public static CallToolResult Json<T>(T value) => new() { Content = [new TextContentBlock { Text = JsonSerializer.Serialize(value, ContractJson.Options) }] };

    public static CallToolResult Text(string json) => new() { Content = [new TextContentBlock { Text = json }] };

    public static CallToolResult Error(string problem) => new() { IsError = true, Content = [new TextContentBlock { Text = problem }] };
}
