using System.Buffers;
using System.Diagnostics;
using Tailor.Compaction;
using Tailor.Format.Workload;
using Tailor.Sink;
using Tailor.Storage;

namespace Tailor.Cli.Commands;

/// <summary><c>tailor gen --store</c>: the workload generator's payloads written as segments straight to a store.</summary>
internal static class GenToStore
{
    public static async Task<int> RunAsync(string uri, WorkloadOptions workload, int sharedShards, bool json, CancellationToken cancellationToken)
    {
        if (workload.TargetPoints is not > 0 || workload.Series < 1 || workload.Orgs < 1)
        {
            throw new CliException("--points, --series and --orgs must be positive.", ExitCodes.BadArguments);
        }

        if (sharedShards is < 1 or > ShardMap.MaxSharedShards)
        {
            throw new CliException($"--shards must be between 1 and {ShardMap.MaxSharedShards} (was {sharedShards}).", ExitCodes.BadArguments);
        }

        await using var store = CompactionArguments.OpenStore(uri, mustExist: false);
        var map = new ShardMap(sharedShards);
        var watch = Stopwatch.StartNew();
        var progressAt = TimeSpan.FromSeconds(2);
        using var generator = new WorkloadGenerator(workload);
        var frame = new ArrayBufferWriter<byte>(64 * 1024);
        var shardsWritten = new HashSet<ShardName>();
        long payloads, points, segments, bytes;
        await using (var writer = new DirectSegmentWriter(store, new SinkOptions { ShardMap = map }))
        {
            while (generator.TryNext(frame, out var payload))
            {
                cancellationToken.ThrowIfCancellationRequested();
                await writer.WriteAsync(frame.WrittenMemory, cancellationToken);
                shardsWritten.Add(map.Route(payload.OrgId));
                frame.ResetWrittenCount();
                if (watch.Elapsed >= progressAt)
                {
                    progressAt += TimeSpan.FromSeconds(2);
                    await Console.Error.WriteLineAsync($"{watch.Elapsed:hh\\:mm\\:ss} {writer.Payloads:N0} payloads, {writer.Points:N0} points, {writer.Segments:N0} segments uploaded");
                }
            }

            await writer.FlushAsync(cancellationToken);
            (payloads, points, segments, bytes) = (writer.Payloads, writer.Points, writer.Segments, writer.Bytes);
        }

        // Payloads cover [slice start, + span): the windows from the first timestamp to the last slice's end.
        var windows = new List<string>();
        var last = generator.CurrentTime + workload.PayloadSpanSeconds - 1;
        for (var window = CompactionWindow.Containing(workload.StartTime, CompactionWindow.DefaultLength); window.StartSeconds <= last;
             window = new CompactionWindow(window.End, window.Length))
        {
            windows.Add(window.ToString());
        }

        var seconds = watch.Elapsed.TotalSeconds;
        var asked = workload.TargetPoints ?? points;
        if (json)
        {
            JsonOutput.Write(new
            {
                Store = store.Name,
                Seed = workload.Seed,
                Payloads = payloads,
                Points = points,
                PointsRequested = asked,
                PointsNote = points == asked ? null : PointsNote(points, asked),
                Segments = segments,
                Bytes = bytes,
                BytesPerPoint = points == 0 ? 0 : Math.Round((double)bytes / points, 3),
                SharedShards = sharedShards,
                Shards = shardsWritten.Select(s => s.Value).Order(StringComparer.Ordinal).ToArray(),
                Windows = windows,
                Seconds = Math.Round(seconds, 3),
            });
        }
        else
        {
            Console.WriteLine($"store      {store.Name}");
            Console.WriteLine($"payloads   {payloads:N0}");
            Console.WriteLine($"points     {points:N0} ({points / Math.Max(seconds, 1e-9):N0}/s)");
            if (points != asked)
            {
                Console.WriteLine($"           {PointsNote(points, asked)}");
            }

            Console.WriteLine($"segments   {segments:N0} in {shardsWritten.Count} of {sharedShards} shards");
            Console.WriteLine($"bytes      {bytes:N0} ({CompactionArguments.Bytes(bytes)}, {(double)bytes / Math.Max(points, 1):F2} bytes/point)");
            Console.WriteLine($"windows    {string.Join(' ', windows)}");
            if (windows.Count > 0)
            {
                Console.WriteLine($"next       tailor plan --store {uri} --window {windows[0]}");
            }
        }

        return ExitCodes.Success;
    }

    /// <summary>Why the count written differs from <c>--points</c>: payloads are never cut.</summary>
    internal static string PointsNote(long points, long asked) => points > asked
        ? $"{points - asked:N0} more than the {asked:N0} asked: the last payload is written whole (a payload is one agent's batch, and a duplicate delivery repeats one), never cut."
        : $"{asked - points:N0} fewer than the {asked:N0} asked: the run stopped before the generator reached them.";
}
