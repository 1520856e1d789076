using System.Text;
using Tailor.Fuzz.Tests.Harness;
using Xunit.Abstractions;

namespace Tailor.Fuzz.Tests;

/// <summary>
/// Replays every input that once failed (<c>regressions/&lt;target&gt;/*.bin</c>, checked in), and on request
/// one case by seed or one file (<c>TAILOR_FUZZ_REPLAY=target:0xSEED</c> or <c>TAILOR_FUZZ_REPLAY=target:path</c>).
/// </summary>
/// <remarks>Files named <c>valid-*.bin</c> are valid inputs: the target must accept them completely.</remarks>
public sealed class FuzzReplayTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_regression_input_keeps_the_contract()
    {
        var folder = FuzzSettings.RegressionsFolder;
        Assert.True(Directory.Exists(folder), $"The regression inputs were not copied next to the tests ({folder}).");
        var failures = new StringBuilder();
        var replayed = 0;
        foreach (var targetFolder in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(targetFolder);
            Assert.Contains(name, FuzzTargets.Names);
            using var target = FuzzTargets.Create(name);
            foreach (var file in Directory.GetFiles(targetFolder, "*.bin").Order(StringComparer.Ordinal))
            {
                var pristine = Path.GetFileName(file).StartsWith("valid-", StringComparison.Ordinal);
                var input = new FuzzInput(File.ReadAllBytes(file), $"regression {Path.GetFileName(file)}", Pristine: pristine, Thorough: true);
                replayed++;
                if (FuzzRunner.Replay(target, input) is { } failure)
                {
                    failures.AppendLine($"{name}/{Path.GetFileName(file)}: {failure}");
                }
            }
        }

        output.WriteLine($"{replayed} regression inputs replayed.");
        Assert.True(failures.Length == 0, failures.ToString());
    }

    [Fact]
    public void Replay_the_case_named_in_the_environment()
    {
        if (FuzzSettings.Replay is not { Length: > 0 } replay)
        {
            output.WriteLine("Set TAILOR_FUZZ_REPLAY=target:0xSEED or target:path to replay one case.");
            return;
        }

        var colon = replay.IndexOf(':', StringComparison.Ordinal);
        Assert.True(colon > 0, "TAILOR_FUZZ_REPLAY is target:0xSEED or target:path");
        using var target = FuzzTargets.Create(replay[..colon]);
        var what = replay[(colon + 1)..];
        var failure = FuzzSettings.ParseSeed(what) is { } seed
            ? FuzzRunner.ReplaySeed(target, seed)
            : FuzzRunner.Replay(target, new FuzzInput(File.ReadAllBytes(what), $"file {what}", Thorough: true));
        output.WriteLine(failure?.ToString() ?? "The contract holds.");
        Assert.Null(failure);
    }
}
