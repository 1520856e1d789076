using Tailor.Format.Payloads;
using Tailor.Format.Tests.Support;
using Tailor.Format.Zstd;
using Xunit.Abstractions;

namespace Tailor.Format.Tests.Payloads;

/// <summary>
/// The decompressor decodes through the machine's libzstd when it has one: valid frames must come
/// out byte for byte as the managed port gives them, and damaged ones must be refused or decoded
/// within bounds by both, never crash.
/// </summary>
public sealed class SystemZstdTests(ITestOutputHelper output)
{
    [Fact]
    public void The_system_library_decodes_every_valid_frame_as_the_managed_port_and_damaged_ones_within_bounds()
    {
        using var system = new ZstdFrameDecompressor();
        using var managed = new ZstdFrameDecompressor(useSystemLibrary: false);
        Assert.False(managed.UsesSystemLibrary);
        Assert.True(system.UsesSystemLibrary || !File.Exists("/usr/lib/x86_64-linux-gnu/libzstd.so.1"), "libzstd.so.1 is installed but was not used");
        output.WriteLine($"system library in use: {system.UsesSystemLibrary}");

        var random = new Random(20261127);
        using var writer = new PayloadWriter();
        var a = new byte[1 << 20];
        var b = new byte[1 << 20];
        var differing = 0;
        var damaged = 0;
        for (var i = 0; i < 300; i++)
        {
            var frame = TestPayloads.Encode(writer, TestPayloads.Random(random, 20, 300));
            Assert.Equal(ZstdFrameStatus.Ok, system.Decompress(frame, a, out var written));
            Assert.Equal(ZstdFrameStatus.Ok, managed.Decompress(frame, b, out var expected));
            Assert.Equal(expected, written);
            Assert.True(a.AsSpan(0, written).SequenceEqual(b.AsSpan(0, expected)), $"frame {i} decodes differently");

            // Damage: flipped bits or a cut, then both libraries' verdicts.
            var bad = (byte[])frame.Clone();
            if (random.Next(2) == 0)
            {
                for (var f = random.Next(1, 4); f > 0; f--)
                {
                    var at = random.Next(6, bad.Length);
                    bad[at] ^= (byte)(1 << random.Next(8));
                }
            }
            else
            {
                bad = bad[..random.Next(6, bad.Length)];
            }

            var bySystem = system.Decompress(bad, a, out var systemBytes);
            var byManaged = managed.Decompress(bad, b, out var managedBytes);
            Assert.InRange(systemBytes, 0, a.Length);
            damaged += bySystem != ZstdFrameStatus.Ok || byManaged != ZstdFrameStatus.Ok ? 1 : 0;
            if (bySystem != byManaged || (bySystem == ZstdFrameStatus.Ok && !a.AsSpan(0, systemBytes).SequenceEqual(b.AsSpan(0, managedBytes))))
            {
                differing++;
                output.WriteLine($"frame {i}: system {bySystem} ({systemBytes} bytes), managed {byManaged} ({managedBytes} bytes), {(bad.Length < frame.Length ? "cut" : "flipped")}");
            }
        }

        output.WriteLine($"{damaged} of 300 damaged frames refused by a library; the two differ on {differing}");
        Assert.True(damaged > 100, "the damage did not reach the decoders");
    }

    [Fact]
    public void A_frame_larger_than_the_destination_is_too_large_through_either_library()
    {
        using var writer = new PayloadWriter();
        var frame = TestPayloads.Encode(writer, TestPayloads.Random(new Random(3), 50, 400));
        foreach (var decompressor in new[] { new ZstdFrameDecompressor(), new ZstdFrameDecompressor(useSystemLibrary: false) })
        {
            using (decompressor)
            {
                Assert.Equal(ZstdFrameStatus.TooLarge, decompressor.Decompress(frame, new byte[64], out var written));
                Assert.Equal(0, written);
            }
        }
    }
}
