using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tailor.Compaction.Memory;
using Tailor.Compaction.Merging;
using Tailor.Compaction.Reading;
using Tailor.Format.Series;
using Tailor.Storage;

namespace Tailor.Compaction;

/// <summary>The result of a one-to-one join of segment points (after the duplicate rule) against S-file points.</summary>
public sealed record VerifyReport
{
    /// <summary>The shard.</summary>
    [JsonPropertyName("shard")] public string Shard { get; init; } = "";

    /// <summary>The window.</summary>
    [JsonPropertyName("window")] public string Window { get; init; } = "";

    /// <summary>Points the segments hold for the window, once each after the duplicate rule.</summary>
    [JsonPropertyName("expected")] public long Expected { get; init; }

    /// <summary>Expected points found in the S-files with the same value bits.</summary>
    [JsonPropertyName("found")] public long Found { get; init; }

    /// <summary>Expected points absent from the S-files.</summary>
    [JsonPropertyName("missing")] public long Missing { get; init; }

    /// <summary>Expected points present in the S-files with other value bits.</summary>
    [JsonPropertyName("different")] public long Different { get; init; }

    /// <summary>S-file points the segments do not hold.</summary>
    [JsonPropertyName("extra")] public long Extra { get; init; }

    /// <summary>Series expected.</summary>
    [JsonPropertyName("series_expected")] public long SeriesExpected { get; init; }

    /// <summary>Series in the S-files.</summary>
    [JsonPropertyName("series_found")] public long SeriesFound { get; init; }

    /// <summary>Input segments read.</summary>
    [JsonPropertyName("segments")] public int Segments { get; init; }

    /// <summary>Segment records lost to damage or undecodable (their points cannot be expected).</summary>
    [JsonPropertyName("damaged_records")] public long DamagedRecords { get; init; }

    /// <summary>Whether a manifest exists for the window.</summary>
    [JsonPropertyName("manifest")] public bool HasManifest { get; init; }

    /// <summary>Whether the manifest names exactly the segments in the store now (false: late segments arrived since; recompact).</summary>
    [JsonPropertyName("manifest_inputs_current")] public bool ManifestInputsCurrent { get; init; }

    /// <summary>S-file parts read.</summary>
    [JsonPropertyName("parts")] public int Parts { get; init; }

    /// <summary>The first problems found, for a person to look at.</summary>
    [JsonPropertyName("samples")] public IReadOnlyList<string> Samples { get; init; } = [];

    /// <summary>Seconds the verification took.</summary>
    [JsonPropertyName("seconds")] public double Seconds { get; init; }

    /// <summary>Whether every expected point was found with the same value and nothing else was.</summary>
    [JsonIgnore] public bool IsExact => Missing == 0 && Different == 0 && Extra == 0;
}

/// <summary>
/// Verifies a compacted window one to one: the points of the window's segments, after the duplicate
/// rule, against the points of the S-files its manifest names — streaming both sides in key order
/// within the memory budget.
/// </summary>
public sealed class CompactionVerifier
{
    private readonly IObjectStore _store;
    private readonly CompactionOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a verifier.</summary>
    public CompactionVerifier(IObjectStore store, CompactionOptions? options = null, ILogger<CompactionVerifier>? logger = null)
    {
        _options = options ?? new CompactionOptions();
        _options.Validate();
        _store = store;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Points a batch of decoded S-file series is filled to (tests set it small to cycle many batches and meet series longer than one).</summary>
    internal int FoundBatchPoints { get; init; } = FoundSeries.DefaultBatchPoints;

    /// <summary>Verifies one shard and window.</summary>
    public async Task<VerifyReport> VerifyAsync(ShardName shard, CompactionWindow window, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var manifestKey = ObjectKeys.Manifest(shard, window.Start);
        CompactionManifest? manifest = null;
        if (await _store.GetInfoAsync(manifestKey, cancellationToken).ConfigureAwait(false) is { } info)
        {
            var bytes = new byte[info.Size];
            await _store.ReadAsync(manifestKey, 0, bytes, cancellationToken).ConfigureAwait(false);
            manifest = CompactionManifest.Parse(bytes);
        }

        var job = await new CompactionPlanner(_store, _options).PlanAsync(shard, window, cancellationToken).ConfigureAwait(false);
        var folder = Path.Combine(_options.WorkDirectory, $"verify-{shard.Value}-{window.StartSeconds}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var parts = await FetchPartsAsync(manifest, folder, cancellationToken).ConfigureAwait(false);
            using var found = new FoundSeries(parts, FoundBatchPoints);
            var comparator = new Comparator(found);
            using (var input = await JobInput.LoadAsync(_store, job, _options, folder, _logger, cancellationToken).ConfigureAwait(false))
            {
                await RangeMerge.RunAsync(input, _options.Parallelism, PointChunk.BytesPerPoint, JobInput.MergeReserve(_options), () => new PointChunk(), comparator.Compare, cancellationToken)
                    .ConfigureAwait(false);
                comparator.Finish();
                return new VerifyReport
                {
                    Shard = shard.Value,
                    Window = window.ToString(),
                    Expected = comparator.Expected,
                    Found = comparator.Matched,
                    Missing = comparator.Missing,
                    Different = comparator.Different,
                    Extra = comparator.Extra,
                    SeriesExpected = comparator.SeriesExpected,
                    SeriesFound = found.SeriesRead,
                    Segments = input.Segments,
                    DamagedRecords = input.LostRecords + input.Counts.BadPayloads,
                    HasManifest = manifest is not null,
                    ManifestInputsCurrent = manifest is not null && manifest.Generation == job.Generation,
                    Parts = parts.Count,
                    Samples = comparator.Samples,
                    Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds,
                };
            }
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task<List<string>> FetchPartsAsync(CompactionManifest? manifest, string folder, CancellationToken cancellationToken)
    {
        var paths = new List<string>();
        if (manifest is null)
        {
            return paths;
        }

        for (var i = 0; i < manifest.Outputs.Count; i++)
        {
            var key = manifest.Outputs[i].Key;
            if (_store is LocalObjectStore local)
            {
                paths.Add(Path.Combine(local.RootPath, key.Replace('/', Path.DirectorySeparatorChar)));
                continue;
            }

            var path = Path.Combine(folder, $"part-{i:D5}.tsf");
            var source = await _store.OpenReadAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                await source.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            }

            paths.Add(path);
        }

        return paths;
    }

    /// <summary>One key range's expected series: keys and points in native buffers.</summary>
    private sealed unsafe class PointChunk : IRangeSink
    {
        /// <summary>A timestamp and a value a point (keys and offsets per series add little).</summary>
        public const double BytesPerPoint = 16;

        private readonly NativeBuffer<CompactKey> _keys = new(1024);
        private readonly NativeBuffer<long> _starts = new(1024);
        private readonly NativeBuffer<long> _timestamps = new(1 << 16);
        private readonly NativeBuffer<double> _values = new(1 << 16);

        public long Count => _keys.Count;

        public CompactKey Key(long i) => _keys[i];

        public ReadOnlySpan<long> Timestamps(long i) => new(_timestamps.Pointer + _starts[i], (int)(End(i) - _starts[i]));

        public ReadOnlySpan<double> Values(long i) => new(_values.Pointer + _starts[i], (int)(End(i) - _starts[i]));

        public void Accept(in CompactKey key, ReadOnlySpan<byte> metadata, ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values)
        {
            _keys.Add(key);
            _starts.Add(_timestamps.Count);
            timestamps.CopyTo(_timestamps.Reserve(timestamps.Length));
            values.CopyTo(_values.Reserve(values.Length));
            _timestamps.Count += timestamps.Length;
            _values.Count += values.Length;
        }

        public void Clear()
        {
            _keys.Clear();
            _starts.Clear();
            _timestamps.Clear();
            _values.Clear();
        }

        public void Dispose()
        {
            _keys.Dispose();
            _starts.Dispose();
            _timestamps.Dispose();
            _values.Dispose();
        }

        private long End(long i) => i + 1 < _keys.Count ? _starts[i + 1] : _timestamps.Count;
    }

    /// <summary>The join: expected series (in key order, chunk by chunk) against the S-files' series.</summary>
    private sealed class Comparator(FoundSeries found)
    {
        private readonly List<string> _samples = [];

        public long Expected { get; private set; }

        public long Matched { get; private set; }

        public long Missing { get; private set; }

        public long Different { get; private set; }

        public long Extra { get; private set; }

        public long SeriesExpected { get; private set; }

        public IReadOnlyList<string> Samples => _samples;

        public void Compare(PointChunk chunk)
        {
            for (long i = 0; i < chunk.Count; i++)
            {
                var key = chunk.Key(i);
                var expectedTs = chunk.Timestamps(i);
                var expectedValues = chunk.Values(i);
                SeriesExpected++;
                Expected += expectedTs.Length;
                while (found.HasCurrent && found.Key.CompareTo(key) < 0)
                {
                    ExtraSeries();
                }

                if (found.HasCurrent && found.Key == key)
                {
                    Join(key, expectedTs, expectedValues, found.Timestamps, found.Values);
                    found.MoveNext();
                }
                else
                {
                    Missing += expectedTs.Length;
                    Sample($"missing series {Format(key)}: {expectedTs.Length} points from {expectedTs[0]}");
                }
            }
        }

        public void Finish()
        {
            while (found.HasCurrent)
            {
                ExtraSeries();
            }
        }

        private void ExtraSeries()
        {
            Extra += found.Timestamps.Length;
            Sample($"extra series {Format(found.Key)}: {found.Timestamps.Length} points");
            found.MoveNext();
        }

        private void Join(in CompactKey key, ReadOnlySpan<long> et, ReadOnlySpan<double> ev, ReadOnlySpan<long> ft, ReadOnlySpan<double> fv)
        {
            int a = 0, b = 0;
            while (a < et.Length || b < ft.Length)
            {
                if (b >= ft.Length || (a < et.Length && et[a] < ft[b]))
                {
                    Missing++;
                    Sample($"missing point {Format(key)} @{et[a]}");
                    a++;
                }
                else if (a >= et.Length || ft[b] < et[a])
                {
                    Extra++;
                    Sample($"extra point {Format(key)} @{ft[b]}");
                    b++;
                }
                else
                {
                    if (BitConverter.DoubleToInt64Bits(ev[a]) == BitConverter.DoubleToInt64Bits(fv[b]))
                    {
                        Matched++;
                    }
                    else
                    {
                        Different++;
                        Sample($"different point {Format(key)} @{et[a]}: expected {ev[a]:R}, found {fv[b]:R}");
                    }

                    a++;
                    b++;
                }
            }
        }

        private void Sample(string text)
        {
            if (_samples.Count < 20)
            {
                _samples.Add(text);
            }
        }

        private static string Format(in CompactKey key) => $"{key.Org}:{key.Metric}:{key.Context}";
    }

    /// <summary>
    /// The S-files' series in key order, decoded by a background thread into batches (the scanner is
    /// a ref struct and cannot wait between the merge's chunks). A few batches of a fixed size cycle
    /// between the thread and the join, so the found side holds a few MB whatever the window's size.
    /// </summary>
    private sealed class FoundSeries : IDisposable
    {
        /// <summary>Points a batch is filled to (a longer series gets a batch of its own, grown to hold it).</summary>
        public const int DefaultBatchPoints = 1 << 18;
        private const int BatchCount = 3;
        private readonly BlockingCollection<Batch> _full = new(boundedCapacity: BatchCount);
        private readonly BlockingCollection<Batch> _empty = new(boundedCapacity: BatchCount);
        private readonly Thread _thread;
        private readonly CancellationTokenSource _stop = new();
        private Batch? _batch;
        private int _index;
        private Exception? _failure;

        public FoundSeries(IReadOnlyList<string> parts, int batchPoints)
        {
            for (var i = 0; i < BatchCount; i++)
            {
                _empty.Add(new Batch(batchPoints));
            }

            _thread = new Thread(() => Produce(parts, batchPoints)) { IsBackground = true, Name = "tailor-verify-sfiles" };
            _thread.Start();
            MoveNext();
        }

        public long SeriesRead { get; private set; }

        public bool HasCurrent => _batch is not null;

        public CompactKey Key => _batch!.Keys[_index];

        public ReadOnlySpan<long> Timestamps => _batch!.Timestamps.AsSpan(_batch.Starts[_index], _batch.Starts[_index + 1] - _batch.Starts[_index]);

        public ReadOnlySpan<double> Values => _batch!.Values.AsSpan(_batch.Starts[_index], _batch.Starts[_index + 1] - _batch.Starts[_index]);

        public void MoveNext()
        {
            if (_batch is not null && ++_index < _batch.Count)
            {
                SeriesRead++;
                return;
            }

            if (_batch is not null)
            {
                // Its spans are no longer in use: back to the thread.
                _batch.Clear();
                _empty.Add(_batch);
                _batch = null;
            }

            while (_full.TryTake(out var batch, Timeout.Infinite))
            {
                if (batch.Count > 0)
                {
                    _batch = batch;
                    _index = 0;
                    SeriesRead++;
                    return;
                }

                _empty.Add(batch);
            }

            if (_failure is not null)
            {
                throw new CompactionException($"An S-file of the window could not be read: {_failure.Message}", _failure);
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            while (_full.TryTake(out _))
            {
            }

            _thread.Join();
            _full.Dispose();
            _empty.Dispose();
            _stop.Dispose();
        }

        private void Produce(IReadOnlyList<string> parts, int batchPoints)
        {
            try
            {
                var batch = _empty.Take(_stop.Token);
                foreach (var path in parts)
                {
                    using var file = new MappedSFile(path);
                    var scanner = new SFileScanner(file);
                    try
                    {
                        while (scanner.MoveNext())
                        {
                            var entry = scanner.Current;
                            if (batch.Count > 0 && batch.Points + entry.PointCount > batchPoints)
                            {
                                _full.Add(batch, _stop.Token);
                                batch = _empty.Take(_stop.Token);
                            }

                            var at = batch.Append(new CompactKey(entry.Key.OrgId, entry.Key.MetricId, entry.Key.ContextKey), entry.PointCount);
                            scanner.ReadPoints(batch.Timestamps.AsSpan(at, entry.PointCount), batch.Values.AsSpan(at, entry.PointCount));
                        }
                    }
                    finally
                    {
                        scanner.Dispose();
                    }
                }

                _full.Add(batch, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e)
            {
                _failure = e;
            }
            finally
            {
                _full.CompleteAdding();
            }
        }

        /// <summary>Series decoded back to back: keys, where each begins, and their points.</summary>
        private sealed class Batch(int points)
        {
            public List<CompactKey> Keys { get; } = [];

            public List<int> Starts { get; } = [0];

            public long[] Timestamps { get; private set; } = new long[points];

            public double[] Values { get; private set; } = new double[points];

            public int Count => Keys.Count;

            public int Points => Starts[^1];

            /// <summary>Adds a series of <paramref name="count"/> points and returns where in the columns its points go.</summary>
            public int Append(CompactKey key, int count)
            {
                var at = Points;
                if (Timestamps.Length < at + count)
                {
                    // Only a series longer than a batch gets here, alone in its batch.
                    Timestamps = new long[at + count];
                    Values = new double[at + count];
                }

                Keys.Add(key);
                Starts.Add(at + count);
                return at;
            }

            public void Clear()
            {
                Keys.Clear();
                Starts.Clear();
                Starts.Add(0);
            }
        }
    }
}
