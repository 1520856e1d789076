using System.Diagnostics;
using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.Benchmarks.Storage;

/// <summary>The figures of one <see cref="MultipartUploadBenchmark"/> run.</summary>
/// <param name="ObjectBytes">Size of the uploaded object.</param>
/// <param name="PartSize">Bytes per part.</param>
/// <param name="Parallelism">Parts in flight in the parallel upload.</param>
/// <param name="LatencyMilliseconds">Latency injected into every store call.</param>
/// <param name="Rounds">How many times each variant ran (the best time is kept).</param>
/// <param name="ParallelSeconds">Best time of the upload with <paramref name="Parallelism"/> parts in flight, start to completed object.</param>
/// <param name="SequentialSeconds">Best time of the upload with one part at a time.</param>
/// <param name="Speedup">SequentialSeconds / ParallelSeconds: the target is at least 2.</param>
/// <param name="ParallelCompleteSeconds">Of <paramref name="ParallelSeconds"/>, the final complete request (the server assembling the object), which parallel parts cannot shorten.</param>
/// <param name="SequentialCompleteSeconds">Of <paramref name="SequentialSeconds"/>, the final complete request.</param>
/// <param name="PartsSpeedup">The speedup of the part uploads alone, the complete request left out.</param>
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
    double PartsSpeedup);

/// <summary>
/// A multipart upload of a large object with latency injected into every call: parts in parallel (the
/// default parallelism) against one at a time, measured side by side in one process so the ratio holds
/// on a noisy machine. Target: at least 2x.
/// </summary>
/// <remarks>
/// A custom side-by-side runner rather than a BenchmarkDotNet class: one measurement moves hundreds of
/// MiB through a server, so BenchmarkDotNet's many iterations would take minutes for one ratio.
/// </remarks>
public static class MultipartUploadBenchmark
{
    private const int MiB = 1024 * 1024;

    /// <summary>Starts s3rver, uploads to it through an S3 store with injected latency, and stops it.</summary>
    /// <param name="objectBytes">The object's size. Default 200 MiB.</param>
    /// <param name="latency">Latency added to every call. Default 20 ms.</param>
    /// <param name="rounds">Runs of each variant; the best is kept. Default 3.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The figures.</returns>
    public static async Task<MultipartUploadBenchmarkResult> RunAgainstS3rverAsync(
        long objectBytes = 200L * MiB, TimeSpan? latency = null, int rounds = 3, CancellationToken cancellationToken = default)
    {
        await using var server = await S3rverProcess.StartAsync();
        using (var client = server.CreateClient())
        {
            await client.PutBucketAsync("bench", cancellationToken);
        }

        await using var store = new S3ObjectStore("bench", "multipart", new S3ObjectStoreOptions { Endpoint = server.Endpoint, Credentials = S3rverProcess.Credentials });
        return await RunAsync(store, objectBytes, latency ?? TimeSpan.FromMilliseconds(20), rounds, cancellationToken);
    }

    /// <summary>Uploads through any store with injected latency: parallel parts against one at a time.</summary>
    /// <param name="store">The store to upload to (left open).</param>
    /// <param name="objectBytes">The object's size.</param>
    /// <param name="latency">Latency added to every call.</param>
    /// <param name="rounds">Runs of each variant; the best is kept.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The figures.</returns>
    public static async Task<MultipartUploadBenchmarkResult> RunAsync(
        IObjectStore store, long objectBytes, TimeSpan latency, int rounds, CancellationToken cancellationToken = default)
    {
        var defaults = new MultipartOptions();
        var chunk = new byte[MiB];
        new Random(42).NextBytes(chunk);

        // Warm both paths (connections, JIT) on a smaller object before measuring.
        await UploadAsync(store, defaults.MaxParallelParts, latency, 4L * defaults.PartSize, chunk, cancellationToken);
        await UploadAsync(store, 1, latency, 4L * defaults.PartSize, chunk, cancellationToken);

        var parallel = (Seconds: double.MaxValue, Complete: 0.0);
        var sequential = (Seconds: double.MaxValue, Complete: 0.0);
        for (var round = 0; round < rounds; round++)
        {
            // Alternate the order so neither variant always runs on a warmer (or more tired) machine.
            for (var turn = 0; turn < 2; turn++)
            {
                var oneAtATime = (round + turn) % 2 == 0;
                var run = await UploadAsync(store, oneAtATime ? 1 : defaults.MaxParallelParts, latency, objectBytes, chunk, cancellationToken);
                if (oneAtATime && run.Seconds < sequential.Seconds)
                {
                    sequential = run;
                }
                else if (!oneAtATime && run.Seconds < parallel.Seconds)
                {
                    parallel = run;
                }
            }
        }

        return new MultipartUploadBenchmarkResult(
            objectBytes, defaults.PartSize, defaults.MaxParallelParts, latency.TotalMilliseconds, rounds,
            Math.Round(parallel.Seconds, 3), Math.Round(sequential.Seconds, 3), Math.Round(sequential.Seconds / parallel.Seconds, 2),
            Math.Round(parallel.Complete, 3), Math.Round(sequential.Complete, 3),
            Math.Round((sequential.Seconds - sequential.Complete) / (parallel.Seconds - parallel.Complete), 2));
    }

    private static async Task<(double Seconds, double Complete)> UploadAsync(
        IObjectStore store, int parallelism, TimeSpan latency, long objectBytes, byte[] chunk, CancellationToken cancellationToken)
    {
        var options = new FaultInjectionOptions { Latency = latency, Multipart = { MaxParallelParts = parallelism } };
        await using var slow = new FaultInjectingObjectStore(store, options, leaveInnerOpen: true);
        using var metrics = new MetricCapture(ObjectStoreMetrics.MeterName);
        var key = $"object-{parallelism}-{Guid.NewGuid():N}.bin";
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
        var complete = metrics.Sum(ObjectStoreMetrics.DurationName, ("store", slow.Name), ("operation", "complete"));
        var info = await store.GetInfoAsync(key, cancellationToken);
        if (info?.Size != objectBytes)
        {
            throw new InvalidOperationException($"The uploaded object has {info?.Size} bytes, not {objectBytes}.");
        }

        await store.DeleteAsync(key, cancellationToken);
        return (seconds, complete);
    }
}
