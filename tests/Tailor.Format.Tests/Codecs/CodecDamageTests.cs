using System.Buffers;
using Tailor.Format.Codecs;
using Tailor.Format.Workload;
using Tailor.Testing;

namespace Tailor.Format.Tests.Codecs;

public class CodecDamageTests
{
    private static IEnumerable<(long[] Ts, double[] Vs)> SampleSeries()
    {
        var corpus = SeriesCorpus.Generate(SeriesMix.Default, 7, 60);
        for (int i = 0; i < corpus.SeriesCount; i++)
        {
            yield return (corpus.GetTimestamps(i).ToArray(), corpus.GetValues(i).ToArray());
        }

        // Every fourth block of the real corpus (the damage tests try hundreds of cuts and flips per block).
        var real = CodecTestData.Real;
        for (int i = 0; i < real.SeriesCount; i += 4)
        {
            yield return (real.GetTimestamps(i).ToArray(), real.GetValues(i).ToArray());
        }

        var rng = new Random(3);
        var specials = CodecTestData.SpecialBits.Select(BitConverter.UInt64BitsToDouble).ToArray();
        yield return (Enumerable.Range(0, 200).Select(_ => rng.NextInt64(long.MinValue, long.MaxValue)).ToArray(),
            Enumerable.Range(0, 200).Select(i => i % 3 == 0 ? specials[i % specials.Length] : BitConverter.Int64BitsToDouble(rng.NextInt64(long.MinValue, long.MaxValue))).ToArray());
        yield return ([5], [1.5]);
        yield return ([], []);
    }

    public static TheoryData<string> CodecNames() => new(CodecTestData.AllCodecs.Select((c, i) => $"{i}:{c.Name}"));

    private static ISeriesCodec Codec(string name) => CodecTestData.AllCodecs[int.Parse(name.AsSpan(0, name.IndexOf(':')), System.Globalization.CultureInfo.InvariantCulture)];

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void Every_truncation_is_invalid_data_without_reading_past_the_end(string name)
    {
        var codec = Codec(name);
        using var memory = GuardedBuffer.TryCreate(1 << 20);
        Assert.True(memory is not null, "guard pages need Linux mmap and mprotect");
        var ts = new long[20_000];
        var vs = new double[20_000];
        int checkedCount = 0;
        foreach (var (t, v) in SampleSeries())
        {
            var block = CodecTestData.Encode(codec, t, v);
            // Every prefix for short blocks, a spread of them for long ones.
            int step = Math.Max(1, block.Length / 200);
            for (int length = 0; length < block.Length; length += length < 64 ? 1 : step)
            {
                var tail = memory.Tail(length);
                block.AsSpan(0, length).CopyTo(tail);
                var status = codec.Decode(tail, ts, vs, out int points, out int consumed);
                Assert.True(status == OperationStatus.InvalidData, $"{codec.Name}: prefix {length}/{block.Length} gave {status}");
                Assert.Equal(0, points);
                Assert.Equal(0, consumed);
                checkedCount++;
            }

            // The whole block at the very end of readable memory still decodes.
            var whole = memory.Tail(block.Length);
            block.CopyTo(whole);
            Assert.Equal(OperationStatus.Done, codec.Decode(whole, ts, vs, out _, out int used));
            Assert.Equal(block.Length, used);
        }

        Assert.True(checkedCount > 1000);
    }

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void Garbage_and_bit_flips_never_throw_or_read_past_the_end(string name)
    {
        var codec = Codec(name);
        using var memory = GuardedBuffer.TryCreate(1 << 20);
        Assert.True(memory is not null, "guard pages need Linux mmap and mprotect");
        var ts = new long[20_000];
        var vs = new double[20_000];
        var rng = new Random(11);
        foreach (var (t, v) in SampleSeries())
        {
            var block = CodecTestData.Encode(codec, t, v);
            for (int trial = 0; trial < 60; trial++)
            {
                var damaged = block.ToArray();
                int flips = 1 + rng.Next(4);
                for (int k = 0; k < flips && damaged.Length > 0; k++)
                {
                    damaged[rng.Next(damaged.Length)] ^= (byte)(1 << rng.Next(8));
                }

                var tail = memory.Tail(damaged.Length);
                damaged.CopyTo(tail);
                var status = codec.Decode(tail, ts, vs, out int points, out int consumed);
                Assert.True(status is OperationStatus.Done or OperationStatus.InvalidData or OperationStatus.DestinationTooSmall, status.ToString());
                Assert.InRange(consumed, 0, damaged.Length);
                Assert.InRange(points, 0, ts.Length);
            }
        }

        for (int trial = 0; trial < 3000; trial++)
        {
            var garbage = new byte[rng.Next(0, 300)];
            rng.NextBytes(garbage);
            if (garbage.Length > 0 && trial % 2 == 0)
            {
                garbage[0] = (byte)(trial % 4 < 2 ? 0 : 1); // a plausible header byte, so parsing goes deeper
            }

            var tail = memory.Tail(garbage.Length);
            garbage.CopyTo(tail);
            var status = codec.Decode(tail, ts, vs, out _, out int consumed);
            Assert.True(status is OperationStatus.Done or OperationStatus.InvalidData or OperationStatus.DestinationTooSmall, status.ToString());
            Assert.InRange(consumed, 0, garbage.Length);
            _ = codec.ReadPointCount(tail, out _);
        }
    }

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void Small_destinations_are_reported_not_overrun(string name)
    {
        var codec = Codec(name);
        var block = CodecTestData.Encode(codec, [1, 2, 3, 4], [1, 2, 3, 4]);
        Assert.Equal(OperationStatus.DestinationTooSmall, codec.Decode(block, new long[3], new double[4], out int points, out int consumed));
        Assert.Equal(0, points);
        Assert.Equal(0, consumed);
        Assert.Equal(OperationStatus.DestinationTooSmall, codec.Decode(block, new long[4], new double[3], out _, out _));
        Assert.Equal(OperationStatus.Done, codec.ReadPointCount(block, out int count));
        Assert.Equal(4, count);
    }

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void Misuse_throws_argument_exceptions(string name)
    {
        var codec = Codec(name);
        Assert.Throws<ArgumentException>(() => codec.Encode([1, 2], [1.0], new byte[1000]));
        Assert.Throws<ArgumentException>(() => codec.Encode([1, 2], [1.0, 2.0], new byte[codec.GetMaxEncodedLength(2) - 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => codec.GetMaxEncodedLength(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => codec.GetMaxEncodedLength(SeriesCodecs.MaxPointCount + 1));
    }

    [Fact]
    public void A_huge_declared_count_is_not_an_allocation()
    {
        // A block that claims 2^24 points followed by nothing.
        byte[] gorilla = [0x80, 0x80, 0x80, 0x08];
        byte[] tailor = [0x00, 0x80, 0x80, 0x80, 0x08];
        var big = new long[SeriesCodecs.MaxPointCount];
        var bigValues = new double[SeriesCodecs.MaxPointCount];
        Assert.Equal(OperationStatus.InvalidData, SeriesCodecs.Gorilla.Decode(gorilla, big, bigValues, out _, out _));
        Assert.Equal(OperationStatus.InvalidData, SeriesCodecs.Tailor.Decode(tailor, big, bigValues, out _, out _));
        byte[] tooMany = [0x00, 0x81, 0x80, 0x80, 0x08];
        Assert.Equal(OperationStatus.InvalidData, SeriesCodecs.Tailor.ReadPointCount(tooMany, out _));
    }
}
