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

    /// <summary>
    /// Whether the manifest names exactly the segments in the store now, by key and size (false: inputs
    /// arrived, changed or went missing since; see <see cref="MissingInputs"/> and <see cref="NewInputs"/>).
    /// </summary>
    [JsonPropertyName("manifest_inputs_current")] public bool ManifestInputsCurrent { get; init; }

    /// <summary>Inputs the manifest lists that the store no longer holds: their points can no longer be checked (and a plain compaction refuses to drop them).</summary>
    [JsonPropertyName("missing_inputs")] public IReadOnlyList<string> MissingInputs { get; init; } = [];

    /// <summary>Segments of the window the manifest does not list (arrived since it was written: recompact).</summary>
    [JsonPropertyName("new_inputs")] public int NewInputs { get; init; }

    /// <summary>Readable segments without an intact trailer: records past the cut are lost without a count.</summary>
    [JsonPropertyName("incomplete_segments")] public int IncompleteSegments { get; init; }

    /// <summary>Whether incomplete segments were accepted (<see cref="CompactionVerifier.AcceptIncomplete"/>).</summary>
    [JsonPropertyName("incomplete_accepted")] public bool IncompleteAccepted { get; init; }

    /// <summary>Segments under another <c>&lt;p&gt;</c> folder than the sink's rule gives: read, and reported.</summary>
    [JsonPropertyName("misplaced_segments")] public int MisplacedSegments { get; init; }

    /// <summary>Payloads whose org routes to another shard than the one they lie under (see <see cref="CompactionOptions.SharedShards"/>).</summary>
    [JsonPropertyName("misrouted_payloads")] public long MisroutedPayloads { get; init; }

    /// <summary>Points of the window in misrouted payloads.</summary>
    [JsonPropertyName("misrouted_points")] public long MisroutedPoints { get; init; }

    /// <summary>Parts the manifest names that are missing, of another size or unreadable ("key: problem").</summary>
    [JsonPropertyName("damaged_parts")] public IReadOnlyList<string> DamagedParts { get; init; } = [];

    /// <summary>
    /// The verdict: <c>ok</c> (every point once with its value, nothing lost uncounted),
    /// <c>nothing_to_verify</c> (no segment holds points of the window and no S-file holds any),
    /// <c>damaged_parts</c>, <c>inputs_missing</c>, <c>mismatch</c> (missing, different or extra points),
    /// <c>misrouted</c> or <c>incomplete_segments</c> (not accepted); the first that applies in this order,
    /// <c>nothing_to_verify</c> and <c>ok</c> last.
    /// </summary>
    [JsonPropertyName("outcome")] public string Outcome { get; init; } = "";

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

    /// <summary>
    /// Accept incomplete segments (without an intact trailer, so records past the cut are lost without a
    /// count): they no longer make the outcome <c>incomplete_segments</c>. Default false.
    /// </summary>
    public bool AcceptIncomplete { get; init; }

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

        var planned = await new CompactionPlanner(_store, _options).PlanAsync(shard, window, cancellationToken).ConfigureAwait(false);
        var inputs = await InputReconciliation.ReconcileAsync(_store, manifest, planned, cancellationToken).ConfigureAwait(false);
        var job = inputs.Job;
        var damagedParts = await CheckPartsAsync(manifest, cancellationToken).ConfigureAwait(false);
        var folder = Path.Combine(_options.WorkDirectory, $"verify-{shard.Value}-{window.StartSeconds}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            // A missing part leaves nothing to join; a resized or altered one is still read, so the join counts what differs.
            var unreadable = damagedParts.Any(p => p.EndsWith(": missing", StringComparison.Ordinal));
            var (keys, parts) = unreadable ? ([], []) : await FetchPartsAsync(manifest, folder, cancellationToken).ConfigureAwait(false);
            if (!unreadable)
            {
                var listed = damagedParts;
                damagedParts = [.. listed, .. (await HashPartsAsync(manifest!, parts, cancellationToken).ConfigureAwait(false))
                    .Where(h => !listed.Any(p => h.StartsWith(p.Split(':')[0] + ":", StringComparison.Ordinal)))];
            }

            using var found = new FoundSeries(parts, keys, FoundBatchPoints);
            var comparator = new Comparator(found);
            using (var input = await JobInput.LoadAsync(_store, job, _options, folder, _logger, cancellationToken).ConfigureAwait(false))
            {
                if (!unreadable)
                {
                    try
                    {
                        found.Start();
                        await RangeMerge.RunAsync(input, _options.Parallelism, PointChunk.BytesPerPoint, JobInput.MergeReserve(_options), () => new PointChunk(), comparator.Compare, cancellationToken)
                            .ConfigureAwait(false);
                        comparator.Finish();
                    }
                    catch (Exception e) when (e is not OperationCanceledException && found.FailedPart is { } failed)
                    {
                        damagedParts = [.. damagedParts.Where(p => !failed.StartsWith(p.Split(':')[0] + ":", StringComparison.Ordinal)), failed];
                    }
                }

                var samples = new List<string>();
                samples.AddRange(damagedParts.Select(p => $"damaged part {p}"));
                samples.AddRange(inputs.Missing.Take(10).Select(i => $"missing input {i.Key} ({i.Size} bytes): the manifest lists it, the store no longer holds it"));
                samples.AddRange(input.IncompleteKeys.Take(10).Select(k => $"incomplete segment {k}: no intact trailer, records past the cut are lost without a count"));
                samples.AddRange(comparator.Samples);
                var counts = input.Counts;
                var report = new VerifyReport
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
                    DamagedRecords = input.LostRecords + counts.BadPayloads,
                    HasManifest = manifest is not null,
                    ManifestInputsCurrent = manifest is not null && inputs.SameInputs,
                    MissingInputs = [.. inputs.Missing.Select(i => i.Key)],
                    NewInputs = manifest is null ? 0 : inputs.Added,
                    IncompleteSegments = input.IncompleteSegments,
                    IncompleteAccepted = AcceptIncomplete,
                    MisplacedSegments = job.MisplacedInputs.Count,
                    MisroutedPayloads = counts.MisroutedPayloads,
                    MisroutedPoints = counts.MisroutedPoints,
                    DamagedParts = damagedParts,
                    Parts = parts.Count,
                    Samples = samples,
                    Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds,
                };
                return report with { Outcome = Decide(report, AcceptIncomplete) };
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

    private static string Decide(VerifyReport r, bool acceptIncomplete) =>
        r.DamagedParts.Count > 0 ? "damaged_parts"
        : r.MissingInputs.Count > 0 ? "inputs_missing"
        : !r.IsExact ? "mismatch"
        : r.MisroutedPayloads > 0 ? "misrouted"
        : r.IncompleteSegments > 0 && !acceptIncomplete ? "incomplete_segments"
        : r.Expected == 0 && r.Found == 0 ? "nothing_to_verify"
        : "ok";

    /// <summary>The fetched parts whose SHA-256 is not the manifest's.</summary>
    private static async Task<IReadOnlyList<string>> HashPartsAsync(CompactionManifest manifest, IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        for (var i = 0; i < paths.Count; i++)
        {
            var part = manifest.Outputs[i];
            string sha;
            await using (var file = new FileStream(paths[i], FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                sha = Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false));
            }

            if (!string.Equals(sha, part.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{part.Key}: SHA-256 {sha[..12]}…, the manifest says {part.Sha256[..Math.Min(12, part.Sha256.Length)]}…");
            }
        }

        return problems;
    }

    /// <summary>The parts of the manifest that are missing or of another size than it says.</summary>
    private async Task<IReadOnlyList<string>> CheckPartsAsync(CompactionManifest? manifest, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (var part in manifest?.Outputs ?? [])
        {
            var info = await _store.GetInfoAsync(part.Key, cancellationToken).ConfigureAwait(false);
            if (info is null)
            {
                problems.Add($"{part.Key}: missing");
            }
            else if (info.Size != part.Size)
            {
                problems.Add($"{part.Key}: {info.Size} bytes, the manifest says {part.Size}");
            }
        }

        return problems;
    }

    private async Task<(List<string> Keys, List<string> Paths)> FetchPartsAsync(CompactionManifest? manifest, string folder, CancellationToken cancellationToken)
    {
        var paths = new List<string>();
        var keys = new List<string>();
        if (manifest is null)
        {
            return (keys, paths);
        }

        for (var i = 0; i < manifest.Outputs.Count; i++)
        {
            var key = manifest.Outputs[i].Key;
            keys.Add(key);
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

        return (keys, paths);
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
        private readonly IReadOnlyList<string> _keys;
        private Exception? _failure;
        private string? _failedPart;
        private int _current;

        /// <summary>The part that could not be read ("key: problem"), once reading failed.</summary>
        public string? FailedPart => Volatile.Read(ref _failedPart);

        public FoundSeries(IReadOnlyList<string> parts, IReadOnlyList<string> keys, int batchPoints)
        {
            _keys = keys;
            for (var i = 0; i < BatchCount; i++)
            {
                _empty.Add(new Batch(batchPoints));
            }

            _thread = new Thread(() => Produce(parts, batchPoints)) { IsBackground = true, Name = "tailor-verify-sfiles" };
            _thread.Start();
        }

        /// <summary>Moves to the first series (a part that cannot be read throws here or in a later <see cref="MoveNext"/>).</summary>
        public void Start() => MoveNext();

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
                for (var p = 0; p < parts.Count; p++)
                {
                    var path = parts[p];
                    _current = p;
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
                Volatile.Write(ref _failedPart, $"{(_current < _keys.Count ? _keys[_current] : "an S-file part")}: {e.Message}");
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
