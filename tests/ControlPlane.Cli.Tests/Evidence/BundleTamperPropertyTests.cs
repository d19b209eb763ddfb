using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Cli.Commands;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification;
using ControlPlane.EvidenceScenarios;
using Spectre.Console;

namespace ControlPlane.Cli.Tests.Evidence;

/// <summary>
/// Issue 4: flipping one byte anywhere in a bundle makes verify fail and name what broke. For every byte of a
/// real bundle and several bit flips each: if the flipped document no longer means the same JSON (or is not
/// JSON), verification must fail with a specific reason; if it still means the same (an escape written in
/// another case, say), it must still verify.
/// </summary>
public sealed class BundleTamperPropertyTests
{
    // 0x01 changes a digit, letter or quote to its neighbour; 0x20 flips letter case (and hex escapes) on every
    // byte; 0x80 (invalid UTF-8) on every eighth byte keeps the run time reasonable on a shared machine.
    private static byte[] MasksAt(int i) => i % 8 == 0 ? [0x01, 0x20, 0x80] : [0x01, 0x20];

    private static readonly string[] Specific =
    [
        "record ", "key '", "work package ", "result ", "section '", "checkpoint", "not a well-formed evidence bundle",
        "format is", "proposalId", "the bundle holds no records",
    ];

    [Fact]
    public void Every_single_byte_flip_that_changes_the_json_fails_and_names_what_broke()
    {
        // One work step: a package and a result, so every section and signature check is present, in a bundle small
        // enough to flip every byte of.
        using var scenario = EvidenceScenario.Create(workSteps: 1);
        var original = scenario.BundleJson();
        var meaning = Parse(original) ?? throw new InvalidOperationException("the untouched bundle must be JSON");
        Assert.True(EvidenceBundleVerifier.Verify(original).Ok);

        var problems = new ConcurrentQueue<string>();
        var failedByCheck = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var neutral = 0;
        Parallel.For(0, original.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            foreach (var mask in MasksAt(i))
            {
                var copy = (byte[])original.Clone();
                copy[i] ^= mask;
                var changed = !SameMeaning(copy, meaning);
                var result = EvidenceBundleVerifier.Verify(copy);
                if (!changed)
                {
                    Interlocked.Increment(ref neutral);
                    if (!result.Ok)
                    {
                        problems.Enqueue($"byte {i} ^ 0x{mask:x2} near «{Context(original, i)}» keeps the meaning but failed: {result.Failure}");
                    }

                    continue;
                }

                if (result.Ok)
                {
                    problems.Enqueue($"byte {i} ^ 0x{mask:x2} near «{Context(original, i)}» changes the meaning but verified");
                }
                else if (!Specific.Any(s => result.Failure!.Contains(s, StringComparison.Ordinal)))
                {
                    problems.Enqueue($"byte {i} ^ 0x{mask:x2} near «{Context(original, i)}» failed without naming what broke: {result.Failure}");
                }
                else
                {
                    failedByCheck.AddOrUpdate(result.FailedCheck!, 1, (_, n) => n + 1);
                }
            }
        });

        Assert.True(problems.IsEmpty, string.Join("\n", problems.Take(25)));
        // Every check of the verifier caught at least one flip: the property exercised all of them.
        Assert.All([EvidenceBundleVerifier.ShapeCheck, EvidenceBundleVerifier.PayloadHashCheck, EvidenceBundleVerifier.RecordHashCheck, EvidenceBundleVerifier.KeysCheck,
            EvidenceBundleVerifier.WorkPackagesCheck, EvidenceBundleVerifier.ResultsCheck, EvidenceBundleVerifier.SummaryCheck,
            EvidenceBundleVerifier.CheckpointCheck], check => Assert.True(failedByCheck.ContainsKey(check), $"no flip was caught by '{check}'"));
        Assert.True(neutral > 0, "the bundle has escapes whose case can flip without changing the JSON; none was seen");
        var summary =
            $"{original.Length} bytes: {neutral} flips kept the meaning and verified; caught by check: " +
            string.Join(", ", failedByCheck.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
    }

    [Fact]
    public void A_sample_of_flips_through_the_cli_fails_with_exit_1_and_the_reason()
    {
        using var scenario = EvidenceScenario.Create(workSteps: 2);
        var original = scenario.BundleJson();
        var meaning = Parse(original)!;
        var random = new Random(20261121);
        var checkedFlips = 0;
        while (checkedFlips < 200)
        {
            var copy = (byte[])original.Clone();
            var i = random.Next(copy.Length);
            copy[i] ^= (byte)(1 << random.Next(8));
            if (SameMeaning(copy, meaning))
            {
                continue;
            }

            var output = new StringWriter();
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(output) });
            console.Profile.Width = 1000;
            var exit = EvidenceVerifyCommand.Run(copy, null, console);

            Assert.Equal(EvidenceVerifyCommand.Failed, exit);
            Assert.Contains("FAIL ", output.ToString(), StringComparison.Ordinal);
            checkedFlips++;
        }
    }

    /// <summary>The document as a JSON tree, or null when it is not JSON.</summary>
    private static JsonNode? Parse(byte[] json)
    {
        try
        {
            return JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Same JSON value: same members (null-valued ones included) with equal values, member order aside. A repeated
    /// member makes the document ambiguous, which counts as a change.
    /// </summary>
    private static bool SameMeaning(byte[] json, JsonNode original)
    {
        try
        {
            return Parse(json) is { } node && JsonNode.DeepEquals(node, original);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // a repeated member, or a member name that is not valid UTF-8 (JsonNode checks names lazily)
            return false;
        }
    }

    private static string Context(byte[] json, int i)
    {
        var from = Math.Max(0, i - 24);
        return Encoding.UTF8.GetString(json, from, Math.Min(json.Length, i + 24) - from).ReplaceLineEndings(" ");
    }
}
