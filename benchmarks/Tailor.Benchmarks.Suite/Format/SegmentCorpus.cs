using System.Buffers;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Format.Workload;

namespace Tailor.Benchmarks.Format;

/// <summary>One in-memory segment of the realistic workload, the input of the segment read benchmarks.</summary>
public sealed class SegmentCorpus
{
    private SegmentCorpus(byte[] file, long points, int payloads, long payloadBytes)
    {
        File = file;
        Points = points;
        Payloads = payloads;
        PayloadBytes = payloadBytes;
        Layout = SegmentLayout.Read(file);
    }

    /// <summary>The segment file bytes.</summary>
    public byte[] File { get; }

    /// <summary>Its layout (header, footer).</summary>
    public SegmentLayout Layout { get; }

    /// <summary>Points over all payloads.</summary>
    public long Points { get; }

    /// <summary>Payloads (records).</summary>
    public int Payloads { get; }

    /// <summary>Decompressed payload bytes.</summary>
    public long PayloadBytes { get; }

    /// <summary>Generates a segment of at least <paramref name="points"/> points of the default workload.</summary>
    public static SegmentCorpus Generate(long points, ulong seed = 42, int series = 20_000)
    {
        using var generator = new WorkloadGenerator(new WorkloadOptions { Seed = seed, Series = series, TargetPoints = points });
        using var decoder = new PayloadDecoder();
        var file = new ArrayBufferWriter<byte>(checked((int)Math.Min(int.MaxValue, points * 4)));
        var frame = new ArrayBufferWriter<byte>();
        var writer = new SegmentWriter(file, new SegmentWriterOptions { SyncMarker = new SyncMarker(seed, ~seed), OpenedAt = 0 });
        long total = 0;
        long bodies = 0;
        var payloads = 0;
        while (generator.TryNext(frame, out _))
        {
            if (decoder.TryValidate(frame.WrittenSpan, out var summary) != PayloadStatus.Ok)
            {
                throw new InvalidOperationException("the generator wrote an invalid payload");
            }

            writer.Append(frame.WrittenSpan, summary);
            total += summary.PointCount;
            bodies += summary.BodyLength;
            payloads++;
            frame.ResetWrittenCount();
        }

        writer.Complete();
        return new SegmentCorpus(file.WrittenSpan.ToArray(), total, payloads, bodies);
    }
}
