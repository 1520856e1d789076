using System.Buffers;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Storage;

namespace Tailor.Sink.Tests.Engine;

/// <summary>Payload frames to send, and what the store holds afterwards.</summary>
internal static class SinkTestKit
{
    public static List<(uint Org, byte[] Frame)> MakeFrames(int count, int orgs, int seed, int seriesPerPayload = 3, int pointsPerSeries = 10)
    {
        var rng = new Random(seed);
        using var writer = new PayloadWriter();
        var frames = new List<(uint, byte[])>(count);
        var ts = new long[pointsPerSeries];
        var values = new double[pointsPerSeries];
        for (var i = 0; i < count; i++)
        {
            var org = (uint)rng.Next(orgs);
            writer.Begin(org, 1_790_000_000_000_000_000 + i);
            for (var s = 0; s < seriesPerPayload; s++)
            {
                for (var k = 0; k < pointsPerSeries; k++)
                {
                    ts[k] = 1_790_000_000 + (i * 10) + k;
                    values[k] = rng.NextDouble();
                }

                writer.AddSeries((ulong)s, (ulong)rng.NextInt64(), "env:test"u8, ts, values);
            }

            var output = new ArrayBufferWriter<byte>();
            writer.Complete(output);
            frames.Add((org, output.WrittenSpan.ToArray()));
        }

        return frames;
    }

    /// <summary>Every record frame in every segment of the store, with the segment key.</summary>
    public static async Task<List<(string Key, byte[] Frame)>> ReadAllSegmentsAsync(IObjectStore store)
    {
        var result = new List<(string, byte[])>();
        await foreach (var info in store.ListAsync(ObjectKeys.SegmentsRoot))
        {
            var bytes = new byte[info.Size];
            var read = await store.ReadAsync(info.Key, 0, bytes);
            Assert.Equal(info.Size, read);
            var layout = SegmentLayout.Read(bytes);
            Assert.NotNull(layout.Footer);
            var reader = SegmentReader.OverFile(bytes, layout.CreateFileState());
            while (reader.TryReadRecord(out var record))
            {
                result.Add((info.Key, record.Frame.ToArray()));
            }

            Assert.Equal(0, reader.CurrentState.Stats.DamagedRegions);
        }

        return result;
    }

    public static string FrameId(byte[] frame) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(frame));
}

/// <summary>A clock tests move by hand.</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
