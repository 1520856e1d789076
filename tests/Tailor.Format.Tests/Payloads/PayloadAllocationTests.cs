using System.Buffers;
using Tailor.Format.Payloads;
using Tailor.Format.Tests.Support;

namespace Tailor.Format.Tests.Payloads;

public sealed class PayloadAllocationTests
{
    [Fact]
    public void Reading_10000_payloads_allocates_nothing_per_payload_entry_or_point()
    {
        var rng = new Random(11);
        using var writer = new PayloadWriter();
        var frames = Enumerable.Range(0, 50).Select(_ => TestPayloads.Encode(writer, TestPayloads.Random(rng, 10, 60))).ToArray();
        using var decoder = new PayloadDecoder();
        var ts = new long[100];
        var values = new double[100];

        long Read(int count)
        {
            long checksum = 0;
            for (var i = 0; i < count; i++)
            {
                if (decoder.TryDecode(frames[i % frames.Length], out var reader) != PayloadStatus.Ok)
                {
                    throw new InvalidDataException();
                }

                while (reader.TryReadSeries(out var s))
                {
                    s.TryDecodeTimestamps(ts);
                    s.DecodeValues(values);
                    checksum += s.PointCount + s.Metadata.Length + (long)s.MetricId;
                    for (var k = 0; k < s.PointCount; k++)
                    {
                        checksum += ts[k] ^ BitConverter.DoubleToInt64Bits(values[k]);
                    }
                }
            }

            return checksum;
        }

        // Warm up: the decoder's buffer reaches its size, and the methods are called often enough to be
        // promoted by tiered compilation, which allocates now and then on the calling thread when a
        // method crosses its call-count threshold.
        Read(20 * frames.Length);

        // A cost per payload, entry or point would show in every attempt (10,000 payloads at least 10,000
        // times); a one-off allocation by the runtime during one attempt is not what this measures, so up
        // to three attempts are made and one must allocate nothing at all.
        var attempts = new List<(long After100, long After10000)>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            Read(100);
            var after100 = GC.GetAllocatedBytesForCurrentThread() - before;
            before = GC.GetAllocatedBytesForCurrentThread();
            Read(10_000);
            var after10000 = GC.GetAllocatedBytesForCurrentThread() - before;
            attempts.Add((after100, after10000));
            if (after100 == 0 && after10000 == 0)
            {
                break;
            }
        }

        Assert.True(attempts[^1] == (0, 0), $"bytes allocated reading 100 and 10,000 payloads, per attempt: {string.Join(", ", attempts)}");
    }

    [Fact]
    public void Writing_payloads_allocates_nothing_in_steady_state()
    {
        using var writer = new PayloadWriter();
        var output = new ArrayBufferWriter<byte>(1 << 20);
        var ts = Enumerable.Range(0, 100).Select(i => 1_790_000_000L + (i * 10)).ToArray();
        var values = Enumerable.Range(0, 100).Select(i => i * 0.5).ToArray();
        var metadata = new byte[120];

        void Write(int count)
        {
            for (var i = 0; i < count; i++)
            {
                output.ResetWrittenCount();
                writer.Begin(1, i);
                for (var s = 0; s < 10; s++)
                {
                    writer.AddSeries((ulong)s, (ulong)i, metadata, ts, values);
                }

                writer.Complete(output);
            }
        }

        Write(10);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Write(1000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
