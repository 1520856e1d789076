using System.Buffers;
using System.Diagnostics;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Benchmarks.Storage;

/// <summary>The figures of one <see cref="MultipartUploadBenchmark"/> run.</summary>
/// <param name="ObjectBytes">Size of the uploaded object.</param>
/// <param name="PartSize">Bytes per part.</param>
/// <param name="Parallelism">Parts in flight in the parallel upload (the default of <see cref="MultipartOptions.MaxParallelParts"/> unless asked otherwise).</param>
/// <param name="LatencyMilliseconds">Latency injected into every store call.</param>
/// <param name="Rounds">How many times each variant ran (the best time is kept).</param>
/// <param name="ParallelSeconds">Best time of the upload with <paramref name="Parallelism"/> parts in flight, start to completed object.</param>
/// <param name="SequentialSeconds">Best time of the upload with one part at a time.</param>
/// <param name="Speedup">SequentialSeconds / ParallelSeconds: the target is at least 2.</param>
/// <param name="ParallelCompleteSeconds">Of <paramref name="ParallelSeconds"/>, the final complete request (the server assembling the object), which parallel parts cannot shorten.</param>
/// <param name="SequentialCompleteSeconds">Of <paramref name="SequentialSeconds"/>, the final complete request.</param>
/// <param name="PartsSpeedup">The speedup of the part uploads alone, the complete request left out.</param>
/// <param name="Parallel">Where the time and the CPU of the best parallel run went.</param>
/// <param name="Sequential">Where the time and the CPU of the best one-at-a-time run went.</param>
/// <param name="ParallelFloorSeconds">
/// The least time the parallel run could take on this machine for the work it measured, were the cores
/// all its own: its complete request, plus the part uploads no faster than the server's main thread did
/// their work, than the machine's cores did all the CPU work of both sides, and than the waves of
/// <paramref name="Parallelism"/> parts each waiting the injected latency. <see langword="null"/> when
/// the server's CPU is unknown.
/// </param>
/// <param name="SpeedupCeiling">SequentialSeconds / ParallelFloorSeconds: the best ratio this server and machine allow.</param>
/// <param name="LoadAverage">The machine's one-minute load average at the end (Linux), to tell a quiet run from a shared one.</param>
public sealed record MultipartUploadBenchmarkResult(
    long ObjectBytes,
    int PartSize,
    int Parallelism,
    double LatencyMilliseconds,
    int Rounds,
    double ParallelSeconds,
    double SequentialSeconds,
    double Speedup,
    double ParallelCompleteSeconds,
    double SequentialCompleteSeconds,
    double PartsSpeedup,
    UploadRunFigures Parallel,
    UploadRunFigures Sequential,
    double? ParallelFloorSeconds,
    double? SpeedupCeiling,
    double? LoadAverage);

/// <summary>Where the time and the CPU of one upload went: the part uploads (from the start to the complete request), then the complete request.</summary>
/// <param name="Seconds">The whole upload.</param>
/// <param name="PartsSeconds"><paramref name="Seconds"/> less <paramref name="CompleteSeconds"/>: the initiation and every part.</param>
/// <param name="CompleteSeconds">The complete request, injected latency included (as measured by the store's metrics).</param>
/// <param name="PartsClientCpuSeconds">CPU time this process used during the part uploads (all threads).</param>
/// <param name="PartsServerCpuSeconds">CPU time the server used during the part uploads (all threads); <see langword="null"/> when unknown.</param>
/// <param name="PartsServerMainThreadCpuSeconds">Of that, its main thread's; <see langword="null"/> when unknown.</param>
/// <param name="CompleteServerCpuSeconds">CPU time the server used during the complete request; <see langword="null"/> when unknown.</param>
/// <param name="MedianMillisecondsBetweenPartEnds">
/// The median time between one part's answer and the next: near the time of a part when parts go one
/// at a time, near zero when parts in flight end together (a server that serves them side by side ends
/// them together, and their successors then wait their latency together).
/// </param>
public sealed record UploadRunFigures(
    double Seconds,
    double PartsSeconds,
    double CompleteSeconds,
    double PartsClientCpuSeconds,
    double? PartsServerCpuSeconds,
    double? PartsServerMainThreadCpuSeconds,
    double? CompleteServerCpuSeconds,
    double MedianMillisecondsBetweenPartEnds);

/// <summary>
/// A multipart upload of a large object with latency injected into every call: parts in parallel (the
/// default parallelism) against one at a time, measured side by side in one process so the ratio holds
/// on a noisy machine. Target: at least 2x.
/// </summary>
/// <remarks>
/// A custom side-by-side runner rather than a BenchmarkDotNet class: one measurement moves hundreds of
/// MiB through a server, so BenchmarkDotNet's many iterations would take minutes for one ratio. Each
/// run also reads the CPU both sides used, split at the complete request, because on a small machine
/// the server's CPU, not the latency, decides how much parallel parts can gain.
/// </remarks>
public static class MultipartUploadBenchmark
{
    private const int MiB = 1024 * 1024;

    /// <summary>Starts s3rver, uploads to it through an S3 store with injected latency, and stops it.</summary>
    /// <param name="objectBytes">The object's size. Default 200 MiB.</param>
    /// <param name="latency">Latency added to every call. Default 20 ms.</param>
    /// <param name="rounds">Runs of each variant; the best is kept. Default 3.</param>
    /// <param name="parallelism">Parts in flight in the parallel variant. Default: the default of <see cref="MultipartOptions.MaxParallelParts"/>, which the target is about.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The figures.</returns>
    public static async Task<MultipartUploadBenchmarkResult> RunAgainstS3rverAsync(
        long objectBytes = 200L * MiB, TimeSpan? latency = null, int rounds = 3, int? parallelism = null, CancellationToken cancellationToken = default)
    {
        await using var server = await S3rverProcess.StartAsync();
        using (var client = server.CreateClient())
        {
            await client.PutBucketAsync("bench", cancellationToken);
        }

        await using var store = new S3ObjectStore("bench", "multipart", new S3ObjectStoreOptions { Endpoint = server.Endpoint, Credentials = S3rverProcess.Credentials });
        return await RunAsync(
            store, objectBytes, latency ?? TimeSpan.FromMilliseconds(20), rounds, parallelism ?? new MultipartOptions().MaxParallelParts,
            () => (server.ProcessorTime, server.MainThreadProcessorTime), cancellationToken);
    }

    /// <summary>Uploads through any store with injected latency: parallel parts against one at a time.</summary>
    /// <param name="store">The store to upload to (left open); it must speak <see cref="IMultipartProtocol"/>.</param>
    /// <param name="objectBytes">The object's size.</param>
    /// <param name="latency">Latency added to every call.</param>
    /// <param name="rounds">Runs of each variant; the best is kept.</param>
    /// <param name="parallelism">Parts in flight in the parallel variant.</param>
    /// <param name="serverCpu">Reads the CPU time the server has used so far, all threads and main thread; <see langword="null"/> when unknown.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The figures.</returns>
    public static async Task<MultipartUploadBenchmarkResult> RunAsync(
        IObjectStore store, long objectBytes, TimeSpan latency, int rounds, int parallelism, Func<(TimeSpan? All, TimeSpan? MainThread)>? serverCpu = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        var options = new MultipartOptions { MaxParallelParts = parallelism };
        var chunk = new byte[MiB];
        new Random(42).NextBytes(chunk);
        var clock = new CpuClock(serverCpu ?? (static () => (null, null)));

        // Warm both paths (connections, JIT) with one whole object each before measuring: the checksum
        // loops run in unoptimised code until tiered compilation has replaced them, and the first two or
        // three uploads of 200 MiB used three to four times the client CPU of later ones (1.3-2.3 s
        // against 0.5 s). Whatever is left lands in round 1, which the best of the rounds leaves out.
        foreach (var warming in new[] { parallelism, 1 })
        {
            Report("warm-up", warming, await UploadAsync(store, warming, latency, objectBytes, chunk, clock, cancellationToken));
        }

        UploadRunFigures? parallel = null;
        UploadRunFigures? sequential = null;
        for (var round = 0; round < rounds; round++)
        {
            // Alternate the order so neither variant always runs on a warmer (or more tired) machine.
            for (var turn = 0; turn < 2; turn++)
            {
                var oneAtATime = (round + turn) % 2 == 0;
                var run = await UploadAsync(store, oneAtATime ? 1 : options.MaxParallelParts, latency, objectBytes, chunk, clock, cancellationToken);
                Report($"round {round + 1}", oneAtATime ? 1 : options.MaxParallelParts, run);
                if (oneAtATime && run.Seconds < (sequential?.Seconds ?? double.MaxValue))
                {
                    sequential = run;
                }
                else if (!oneAtATime && run.Seconds < (parallel?.Seconds ?? double.MaxValue))
                {
                    parallel = run;
                }
            }
        }

        Debug.Assert(parallel is not null && sequential is not null, "every round runs both variants");
        var floor = Floor(parallel, objectBytes, options, latency);
        return new MultipartUploadBenchmarkResult(
            objectBytes, options.PartSize, options.MaxParallelParts, latency.TotalMilliseconds, rounds,
            Math.Round(parallel.Seconds, 3), Math.Round(sequential.Seconds, 3), Math.Round(sequential.Seconds / parallel.Seconds, 2),
            Math.Round(parallel.CompleteSeconds, 3), Math.Round(sequential.CompleteSeconds, 3),
            Math.Round((sequential.Seconds - sequential.CompleteSeconds) / (parallel.Seconds - parallel.CompleteSeconds), 2),
            Rounded(parallel), Rounded(sequential),
            floor is { } f ? Math.Round(f, 3) : null, floor is { } g ? Math.Round(sequential.Seconds / g, 2) : null,
            LoadAverage());
    }

    /// <summary>The least time the parallel run could take for the work it measured (see <see cref="MultipartUploadBenchmarkResult.ParallelFloorSeconds"/>).</summary>
    private static double? Floor(UploadRunFigures run, long objectBytes, MultipartOptions options, TimeSpan latency)
    {
        if (run.PartsServerCpuSeconds is not { } serverCpu || run.PartsServerMainThreadCpuSeconds is not { } mainThread)
        {
            return null;
        }

        var parts = (objectBytes + options.PartSize - 1) / options.PartSize;
        var waves = (parts + options.MaxParallelParts - 1) / options.MaxParallelParts;

        // The initiation's latency comes before any part; the complete's is in CompleteSeconds.
        var partsFloor = Math.Max(Math.Max(mainThread, (serverCpu + run.PartsClientCpuSeconds) / Environment.ProcessorCount), waves * latency.TotalSeconds);
        return latency.TotalSeconds + partsFloor + run.CompleteSeconds;
    }

    private static UploadRunFigures Rounded(UploadRunFigures run) => new(
        Math.Round(run.Seconds, 3), Math.Round(run.PartsSeconds, 3), Math.Round(run.CompleteSeconds, 3), Math.Round(run.PartsClientCpuSeconds, 3),
        run.PartsServerCpuSeconds is { } a ? Math.Round(a, 3) : null,
        run.PartsServerMainThreadCpuSeconds is { } b ? Math.Round(b, 3) : null,
        run.CompleteServerCpuSeconds is { } c ? Math.Round(c, 3) : null,
        Math.Round(run.MedianMillisecondsBetweenPartEnds, 1));

    private static void Report(string what, int parallelism, UploadRunFigures run) =>
        Console.Error.WriteLine(
            $"{what}, {(parallelism == 1 ? "one at a time" : $"{parallelism} in flight")}: {run.Seconds:0.000} s = parts {run.PartsSeconds:0.000} s " +
            $"(client CPU {run.PartsClientCpuSeconds:0.000} s, server CPU {run.PartsServerCpuSeconds:0.000} s, of which main thread {run.PartsServerMainThreadCpuSeconds:0.000} s) " +
            $"+ complete {run.CompleteSeconds:0.000} s (server CPU {run.CompleteServerCpuSeconds:0.000} s); median {run.MedianMillisecondsBetweenPartEnds:0.0} ms between part ends");

    private static double? LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    private static async Task<UploadRunFigures> UploadAsync(
        IObjectStore store, int parallelism, TimeSpan latency, long objectBytes, byte[] chunk, CpuClock clock, CancellationToken cancellationToken)
    {
        var options = new FaultInjectionOptions { Latency = latency, Multipart = { MaxParallelParts = parallelism } };
        var split = new CompleteSplit(store, clock);
        await using var slow = new FaultInjectingObjectStore(split, options, leaveInnerOpen: true);
        using var metrics = new MetricCapture(ObjectStoreMetrics.MeterName);
        var key = $"object-{parallelism}-{Guid.NewGuid():N}.bin";
        var start = clock.Read();
        var watch = Stopwatch.StartNew();
        await using (var upload = await slow.StartUploadAsync(key, cancellationToken))
        {
            for (long written = 0; written < objectBytes; written += chunk.Length)
            {
                await upload.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, objectBytes - written)), cancellationToken);
            }

            await upload.CompleteAsync(cancellationToken);
        }

        var seconds = watch.Elapsed.TotalSeconds;
        var end = clock.Read();
        var complete = metrics.Sum(ObjectStoreMetrics.DurationName, ("store", slow.Name), ("operation", "complete"));
        var info = await store.GetInfoAsync(key, cancellationToken);
        if (info?.Size != objectBytes)
        {
            throw new InvalidOperationException($"The uploaded object has {info?.Size} bytes, not {objectBytes}.");
        }

        await store.DeleteAsync(key, cancellationToken);
        var atComplete = split.AtComplete ?? throw new InvalidOperationException("The upload completed without a complete request.");
        return new UploadRunFigures(
            seconds, seconds - complete, complete,
            (atComplete.Client - start.Client).TotalSeconds,
            (atComplete.Server - start.Server)?.TotalSeconds,
            (atComplete.ServerMainThread - start.ServerMainThread)?.TotalSeconds,
            (end.Server - atComplete.Server)?.TotalSeconds,
            split.MedianMillisecondsBetweenPartEnds());
    }

    /// <summary>CPU used so far by this process and by the server.</summary>
    private readonly record struct CpuReading(TimeSpan Client, TimeSpan? Server, TimeSpan? ServerMainThread);

    private sealed class CpuClock(Func<(TimeSpan? All, TimeSpan? MainThread)> server)
    {
        public CpuReading Read()
        {
            var (all, mainThread) = server();
            using var process = Process.GetCurrentProcess();
            return new CpuReading(process.TotalProcessorTime, all, mainThread);
        }
    }

    /// <summary>
    /// Passes every call through, notes when each part's answer came, and reads the CPU clocks when the
    /// complete request starts (after the injected latency, which sits above).
    /// </summary>
    private sealed class CompleteSplit(IObjectStore inner, CpuClock clock) : ForwardingObjectStore(inner)
    {
        private readonly Stopwatch _watch = Stopwatch.StartNew();
        private readonly List<double> _partEnds = [];

        public CpuReading? AtComplete { get; private set; }

        public override async Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlySequence<byte> data, CancellationToken cancellationToken = default)
        {
            var part = await base.UploadPartAsync(key, uploadId, partNumber, data, cancellationToken).ConfigureAwait(false);
            lock (_partEnds)
            {
                _partEnds.Add(_watch.Elapsed.TotalMilliseconds);
            }

            return part;
        }

        public double MedianMillisecondsBetweenPartEnds()
        {
            lock (_partEnds)
            {
                _partEnds.Sort();
                var gaps = _partEnds.Zip(_partEnds.Skip(1), static (a, b) => b - a).Order().ToList();
                return gaps.Count == 0 ? 0 : gaps[gaps.Count / 2];
            }
        }

        public override Task<ObjectInfo> CompleteUploadAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default)
        {
            AtComplete = clock.Read();
            return base.CompleteUploadAsync(key, uploadId, parts, cancellationToken);
        }
    }
}
