using System.Runtime.CompilerServices;
using Tailor.Fuzz.Tests.Harness;

namespace Tailor.Fuzz.Tests;

/// <summary>The harness itself: it reports hangs, exceptions and allocations with a seed, shrinks inputs, and replays seeds.</summary>
public sealed class HarnessSelfTests
{
    [Fact]
    public void A_hung_case_is_reported_with_its_seed_and_input()
    {
        using var target = new ToyTarget();
        var report = FuzzRunner.Run(target, 200, 1, hangAfter: TimeSpan.FromMilliseconds(300));
        var hang = Assert.Single(report.Failures, f => f.Hang);
        Assert.Equal(ToyTarget.Stall, hang.Input[0]);
        Assert.Equal(FuzzRunner.CaseSeed(target.Name, 1, report.Cases), hang.Seed);
        Assert.True(File.Exists(hang.SavedPath));
    }

    [Fact]
    public void An_exception_is_reported_once_and_shrunk_to_what_triggers_it()
    {
        using var target = new ToyTarget();
        var report = FuzzRunner.Run(target, 300, 2);
        var failure = Assert.Single(report.Failures, f => f.Signature.StartsWith("InvalidOperationException", StringComparison.Ordinal));
        Assert.Equal([ToyTarget.Throw], failure.Input);
        var replayed = FuzzRunner.ReplaySeed(new ToyTarget(), failure.Seed);
        Assert.NotNull(replayed);
        Assert.Equal(failure.Signature, replayed.Signature);
    }

    [Fact]
    public void An_allocation_over_the_bound_is_a_contract_failure()
    {
        using var target = new ToyTarget();
        var report = FuzzRunner.Run(target, 300, 3);
        Assert.Contains(report.Failures, f => f.Signature == "contract: allocation over the limit in toy");
    }

    /// <summary>Inputs of random bytes; the first byte picks a behaviour.</summary>
    private sealed class ToyTarget : FuzzTarget
    {
        public const byte Stall = 7;
        public const byte Throw = 0x42;
        public const byte Allocate = 0x99;

        public override string Name => "toy";

        public override int DefaultCases => 100;

        public override FuzzInput Generate(FuzzRandom random)
        {
            var bytes = random.NextBytes(random.Next(1, 64));
            if (bytes[0] == Stall && random.Next(3) != 0)
            {
                bytes[0] = 0; // keep stalls rare, so other behaviours show up first
            }

            return new FuzzInput(bytes, "random");
        }

        public override void Run(FuzzInput input)
        {
            switch (input.Bytes.Length == 0 ? 0 : input.Bytes[0])
            {
                case Stall:
                    Thread.Sleep(2000);
                    break;
                case Throw:
                    throw new InvalidOperationException("toy failure");
                case Allocate:
                    var before = Contract.AllocatedSoFar();
                    Keep(new byte[1 << 20]);
                    Contract.Allocated("toy", before, 64 * 1024);
                    break;
            }

            if (input.Bytes.AsSpan().Contains(Throw))
            {
                throw new InvalidOperationException("toy failure");
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Keep(byte[] bytes) => GC.KeepAlive(bytes);
    }
}
