using Tailor.Storage;

namespace Tailor.Sink.Tests.Engine;

/// <summary>The engine's logic over the in-process source and a real local-folder store.</summary>
public sealed class SinkEngineTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("tailor-sink-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task Every_payload_lands_in_exactly_one_segment_and_every_offset_is_committed()
    {
        await using var store = new LocalObjectStore(_root.FullName);
        using var source = new ChannelPayloadSource(partitions: 8);
        var frames = SinkTestKit.MakeFrames(3000, orgs: 50, seed: 1);
        var options = new SinkOptions { ShardMap = new ShardMap(16, [7]), MaxSegmentPayloads = 200, CommitInterval = TimeSpan.FromMilliseconds(50) };
        await using var engine = new SinkEngine(options, store, source);
        using var stop = new CancellationTokenSource();
        var run = engine.RunAsync(stop.Token);
        foreach (var (org, frame) in frames)
        {
            await source.WriteAsync(org, frame);
        }

        await WaitUntil(() => engine.Status.Payloads == frames.Count, TimeSpan.FromSeconds(60));
        stop.Cancel();
        await run;
        Assert.True(source.IsDrained, "a graceful stop commits everything it uploaded");

        var stored = await SinkTestKit.ReadAllSegmentsAsync(store);
        Assert.Equal(frames.Count, stored.Count);
        Assert.Equal(frames.Select(f => SinkTestKit.FrameId(f.Frame)).Order(), stored.Select(s => SinkTestKit.FrameId(s.Frame)).Order());
        // Each org's payloads are in segments of its own shard.
        foreach (var (key, frame) in stored)
        {
            var org = frames.First(f => f.Frame.AsSpan().SequenceEqual(frame)).Org;
            Assert.Contains($"segments/{options.ShardMap.Route(org).Value}/", key, StringComparison.Ordinal);
        }

        Assert.All(source.CommittedOffsets.Values, o => Assert.True(o > 0));
        Assert.Equal(frames.Count, source.CommittedOffsets.Values.Sum());
        Assert.True(engine.Status.SegmentsCompleted >= frames.Count / 200);
    }

    [Fact]
    public async Task Segments_rotate_at_the_payload_count_and_at_their_age()
    {
        await using var store = new LocalObjectStore(_root.FullName);
        using var source = new ChannelPayloadSource(partitions: 1);
        var time = new ManualTime(DateTimeOffset.Parse("2026-11-26T05:00:00Z"));
        var options = new SinkOptions { ShardMap = new ShardMap(1), MaxSegmentPayloads = 10, MaxSegmentAge = TimeSpan.FromMinutes(10) };
        await using var engine = new SinkEngine(options, store, source, time: time);
        using var stop = new CancellationTokenSource();
        var run = engine.RunAsync(stop.Token);
        var frames = SinkTestKit.MakeFrames(25, orgs: 3, seed: 2);
        foreach (var (org, frame) in frames)
        {
            await source.WriteAsync(org, frame);
        }

        // 25 payloads: two segments of 10 complete by count; the last 5 wait for their age.
        await WaitUntil(() => engine.Status.SegmentsCompleted == 2 && engine.Status.Payloads == 25, TimeSpan.FromSeconds(30));
        await Task.Delay(300);
        Assert.Equal(2, engine.Status.SegmentsCompleted);
        time.Advance(TimeSpan.FromMinutes(11));
        await WaitUntil(() => engine.Status.SegmentsCompleted == 3, TimeSpan.FromSeconds(30));
        stop.Cancel();
        await run;
        var stored = await SinkTestKit.ReadAllSegmentsAsync(store);
        Assert.Equal(25, stored.Count);
        Assert.Equal(3, stored.Select(s => s.Key).Distinct().Count());
        Assert.All(stored, s => Assert.Contains("/2026-11-26T05/", s.Key, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Bad_messages_go_to_dead_letters_with_their_coordinates_and_the_partition_keeps_flowing(bool validate)
    {
        await using var store = new LocalObjectStore(_root.FullName);
        using var source = new ChannelPayloadSource(partitions: 1);
        await using var engine = new SinkEngine(new SinkOptions { MaxPayloadBytes = 64 * 1024, ValidatePayloads = validate }, store, source);
        using var stop = new CancellationTokenSource();
        var run = engine.RunAsync(stop.Token);
        var good = SinkTestKit.MakeFrames(10, orgs: 2, seed: 3);
        await source.WriteAsync(good[0].Org, good[0].Frame);
        var noKey = await source.WriteRawAsync(null, good[1].Frame, 0);
        var badKey = await source.WriteRawAsync(new byte[] { 1, 2, 3 }, good[1].Frame, 0);
        var notZstd = await source.WriteRawAsync(new byte[] { 1, 0, 0, 0 }, "not a zstd frame"u8.ToArray(), 0);
        var tooBig = await source.WriteRawAsync(new byte[] { 1, 0, 0, 0 }, new byte[100 * 1024], 0);
        var wrongOrg = await source.WriteRawAsync(new byte[] { 99, 0, 0, 0 }, good[2].Frame, 0);
        foreach (var (org, frame) in good.Skip(3))
        {
            await source.WriteAsync(org, frame);
        }

        await WaitUntil(() => engine.Status.Payloads + engine.Status.DeadLetters == 13, TimeSpan.FromSeconds(30));
        stop.Cancel();
        await run;

        var letters = new List<string>();
        await foreach (var info in store.ListAsync(ObjectKeys.DeadLetterRoot))
        {
            letters.Add(info.Key);
            var bytes = new byte[info.Size];
            await store.ReadAsync(info.Key, 0, bytes);
            using var header = DeadLetterWriter.ReadHeader(bytes);
            Assert.Equal(source.Topic, header.RootElement.GetProperty("topic").GetString());
            Assert.False(string.IsNullOrEmpty(header.RootElement.GetProperty("reason").GetString()));
        }

        // Without validation the sink never decompresses, so only a decompressing sink sees that the
        // key and the payload name different orgs; the default sink writes that payload to a segment.
        var expected = validate ? new[] { noKey, badKey, notZstd, tooBig, wrongOrg } : [noKey, badKey, notZstd, tooBig];
        Assert.Equal(
            expected.Select(o => ObjectKeys.DeadLetter(o.Partition.Topic, o.Partition.Partition, o.Offset)).Order(StringComparer.Ordinal),
            letters.Order(StringComparer.Ordinal));
        Assert.Equal(expected.Length, engine.Status.DeadLetters);
        Assert.Equal(validate ? 8 : 9, (await SinkTestKit.ReadAllSegmentsAsync(store)).Count);
        Assert.Equal(13, source.CommittedOffsets.Values.Single());
    }

    [Fact]
    public async Task Five_hundred_shards_stay_within_the_buffer_budget_by_rotating_early()
    {
        await using var store = new LocalObjectStore(_root.FullName);
        using var source = new ChannelPayloadSource(partitions: 4);
        const long budget = 2L << 20;
        var options = new SinkOptions { ShardMap = new ShardMap(500), BufferBudgetBytes = budget, ChunkBytes = 16 * 1024 };
        await using var engine = new SinkEngine(options, store, source);
        using var stop = new CancellationTokenSource();
        var run = engine.RunAsync(stop.Token);
        var frames = SinkTestKit.MakeFrames(6000, orgs: 500, seed: 4, seriesPerPayload: 8, pointsPerSeries: 40);
        foreach (var (org, frame) in frames)
        {
            await source.WriteAsync(org, frame);
        }

        await WaitUntil(() => engine.Status.Payloads == frames.Count, TimeSpan.FromSeconds(120));
        stop.Cancel();
        await run;
        Assert.True(source.IsDrained);
        var total = frames.Sum(f => (long)f.Frame.Length);
        Assert.True(total > 3 * budget, $"the test must push {total} bytes, several budgets");
        // The budget is checked every 32 payloads, so it can be passed by at most that many payloads,
        // plus the chunk being filled when the check ran.
        var slack = (33L * frames.Max(f => f.Frame.Length)) + options.ChunkBytes;
        Assert.True(engine.Status.PeakBufferedBytes <= budget + slack, $"peak {engine.Status.PeakBufferedBytes} over budget {budget} + {slack}");
        var stored = await SinkTestKit.ReadAllSegmentsAsync(store);
        Assert.Equal(frames.Count, stored.Count);
    }

    internal static async Task WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not reached in time");
            }

            await Task.Delay(20);
        }
    }
}
