using System.Text;
using Xunit.Abstractions;

namespace Tailor.Fuzz.Tests.Harness;

/// <summary>Runs a target from a test and fails it with every distinct failure, its seed and its saved input.</summary>
public static class FuzzTest
{
    public static void Run(FuzzTarget target, ITestOutputHelper output)
    {
        using (target)
        {
            var report = FuzzRunner.Run(target, FuzzSettings.CasesFor(target), FuzzSettings.Seed);
            output.WriteLine(report.Describe());
            if (report.Failures.Count == 0)
            {
                return;
            }

            var message = new StringBuilder();
            message.AppendLine($"{report.Failures.Count} distinct contract failures in {target.Name} (replay one with TAILOR_FUZZ_REPLAY={target.Name}:0x<case seed>):");
            foreach (var failure in report.Failures)
            {
                message.AppendLine(failure.ToString());
            }

            message.AppendLine($"Once fixed, keep each input as tests/Tailor.Fuzz.Tests/regressions/{target.Name}/<what-it-reproduces>.bin.");
            Assert.Fail(message.ToString());
        }
    }
}
