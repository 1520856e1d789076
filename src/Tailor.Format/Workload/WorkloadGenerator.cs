using System.Buffers;
using System.Text;
using Tailor.Format.Payloads;

namespace Tailor.Format.Workload;

/// <summary>Options of the <see cref="WorkloadGenerator"/>; docs/workload.md explains each choice.</summary>
public sealed class WorkloadOptions
{
    /// <summary>The seed every choice derives from. Default 1.</summary>
    public ulong Seed { get; set; } = 1;

    /// <summary>The number of orgs. Default 200.</summary>
    public int Orgs { get; set; } = 200;

    /// <summary>The number of series over all orgs. Default 20,000.</summary>
    public int Series { get; set; } = 20_000;

    /// <summary>The Zipf exponent of org sizes: org of rank r gets a share ∝ 1/r^s. Default 1.1.</summary>
    public double ZipfExponent { get; set; } = 1.1;

    /// <summary>The first timestamp, Unix seconds. Default 2026-11-26T00:00Z.</summary>
    public long StartTime { get; set; } = SeriesCorpus.DefaultWindowStart;

    /// <summary>The time each payload covers of each of its series, in seconds (agents batch this long). Default 300.</summary>
    public int PayloadSpanSeconds { get; set; } = 300;

    /// <summary>The most series entries in one payload. Default 250.</summary>
    public int MaxSeriesPerPayload { get; set; } = 250;

    /// <summary>Share of payloads delivered twice, byte for byte (at-least-once delivery). Default 0.01.</summary>
    public double DuplicateRate { get; set; } = 0.01;

    /// <summary>Share of series entries sent again later with new values and a newer intake time. Default 0.005.</summary>
    public double ResendRate { get; set; } = 0.005;

    /// <summary>Share of series entries held back and sent in a later payload (late points). Default 0.01.</summary>
    public double LateRate { get; set; } = 0.01;

    /// <summary>How many payload spans a late or resent entry may trail by. Default 6 (30 minutes at 300 s).</summary>
    public int MaxDelaySpans { get; set; } = 6;

    /// <summary>The series families and intervals. Default <see cref="SeriesMix.Default"/>.</summary>
    public SeriesMix Mix { get; set; } = SeriesMix.Default;

    /// <summary>Stop once this many points were generated (the payload being built is finished). Default null: never.</summary>
    public long? TargetPoints { get; set; }

    /// <summary>Stop at this time (Unix seconds): no payload covers later points. Default null: never.</summary>
    public long? EndTime { get; set; }
}

/// <summary>What kind of delivery a generated payload is.</summary>
public enum PayloadKind
{
    /// <summary>A payload as first sent.</summary>
    Regular,
    /// <summary>A byte-for-byte second delivery of the previous payload.</summary>
    Duplicate,
    /// <summary>Entries sent later than their slice (late points), possibly mixed with resent values.</summary>
    Delayed,
}

/// <summary>One payload the generator produced.</summary>
/// <param name="OrgId">The org (also the Kafka key).</param>
/// <param name="IntakeTime">The intake time, ns.</param>
/// <param name="SeriesCount">Series entries in the payload.</param>
/// <param name="PointCount">Points in the payload.</param>
/// <param name="FrameLength">The zstd frame's length.</param>
/// <param name="Kind">Regular, duplicate or delayed.</param>
public readonly record struct GeneratedPayload(uint OrgId, long IntakeTime, int SeriesCount, int PointCount, int FrameLength, PayloadKind Kind);

/// <summary>One series of the generated population.</summary>
/// <param name="OrgId">The org it belongs to.</param>
/// <param name="MetricId">The interned metric id (small integers per org, as producers intern names).</param>
/// <param name="ContextKey">The tag set's 64-bit identity.</param>
/// <param name="Spec">Family, interval and seed of its points.</param>
/// <param name="Metadata">Its tags as the producer sends them.</param>
public sealed record WorkloadSeries(uint OrgId, ulong MetricId, ulong ContextKey, SeriesSpec Spec, byte[] Metadata);

/// <summary>
/// The realistic payload stream: orgs of Zipf-distributed size, each series batched
/// <see cref="WorkloadOptions.PayloadSpanSeconds"/> at a time into payloads of up to
/// <see cref="WorkloadOptions.MaxSeriesPerPayload"/> entries, with duplicated payloads, late
/// entries and resent values at the configured rates. Deterministic for a seed.
/// </summary>
/// <remarks>Not thread-safe. Owns a <see cref="PayloadWriter"/>; dispose to release it.</remarks>
public sealed class WorkloadGenerator : IDisposable
{
    private static readonly string[] Envs = ["prod", "prod", "prod", "staging", "dev"];
    private static readonly string[] Regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"];
    private static readonly string[] Services = ["checkout", "search", "auth", "billing", "ingest", "web", "api", "worker", "db", "cache", "queue", "scheduler"];
    private static readonly string[] Metrics = ["system.cpu.user", "system.mem.used", "http.requests", "http.latency.avg", "disk.used_pct", "net.bytes_rcvd",
        "jvm.heap.used", "db.connections", "queue.depth", "temperature.celsius", "process.uptime", "errors.count", "cache.hit_ratio", "gc.pause.avg"];

    private readonly WorkloadOptions _options;
    private readonly PayloadWriter _writer = new();
    private readonly WorkloadSeries[] _series;
    private readonly SeriesGenerator[] _generators;
    private readonly int[][] _seriesByOrg;
    private readonly Dictionary<long, List<DelayedEntry>> _delayed = [];
    private readonly long[] _timestamps;
    private readonly double[] _values;
    private readonly ArrayBufferWriter<byte> _lastFrame = new();
    private ulong _rng;
    private long _sliceStart;
    private int _orgCursor;
    private int _seriesCursor;
    private bool _delayedDone;
    private bool _duplicatePending;
    private GeneratedPayload _lastInfo;
    private long _points;

    /// <summary>Builds the series population.</summary>
    public WorkloadGenerator(WorkloadOptions? options = null)
    {
        _options = options ??= new WorkloadOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Orgs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Series, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PayloadSpanSeconds, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSeriesPerPayload, 1);
        _rng = WorkloadRandom.Mix(options.Seed, 0x7A11_0A0DUL);
        var weights = new double[options.Orgs];
        double total = 0;
        for (var r = 0; r < weights.Length; r++)
        {
            weights[r] = 1 / Math.Pow(r + 1, options.ZipfExponent);
            total += weights[r];
        }

        // Org ids look like customer numbers; rank 0 is the largest org.
        var orgIds = new uint[options.Orgs];
        for (var r = 0; r < orgIds.Length; r++)
        {
            orgIds[r] = (uint)(10_000 + (WorkloadRandom.Mix(options.Seed, (ulong)r) % 90_000_000));
        }

        OrgIds = orgIds;
        var cumulative = new double[weights.Length];
        double running = 0;
        for (var r = 0; r < weights.Length; r++)
        {
            running += weights[r] / total;
            cumulative[r] = running;
        }

        _series = new WorkloadSeries[options.Series];
        _generators = new SeriesGenerator[options.Series];
        var byOrg = new List<int>[options.Orgs];
        for (var r = 0; r < byOrg.Length; r++)
        {
            byOrg[r] = [];
        }

        var metricCounts = new int[options.Orgs];
        for (var i = 0; i < _series.Length; i++)
        {
            var u = WorkloadRandom.NextDouble(ref _rng);
            var rank = Array.BinarySearch(cumulative, u);
            rank = rank < 0 ? Math.Min(~rank, options.Orgs - 1) : rank;
            if (i < options.Orgs)
            {
                rank = i; // every org has at least one series
            }

            var spec = options.Mix.Pick(options.Seed, i);
            var metric = (ulong)(WorkloadRandom.NextInt(ref _rng, Math.Min(Metrics.Length + metricCounts[rank], 400)) + 1);
            metricCounts[rank]++;
            var context = WorkloadRandom.Next(ref _rng);
            _series[i] = new WorkloadSeries(orgIds[rank], metric, context, spec, MakeTags(ref _rng, rank, metric));
            _generators[i] = spec.CreateGenerator(options.StartTime);
            byOrg[rank].Add(i);
        }

        _seriesByOrg = byOrg.Select(l => l.ToArray()).ToArray();
        var maxPoints = SeriesGenerator.GetMaxPointCount(1, options.PayloadSpanSeconds);
        _timestamps = new long[maxPoints];
        _values = new double[maxPoints];
        _sliceStart = options.StartTime;
    }

    /// <summary>The org ids, largest org first.</summary>
    public IReadOnlyList<uint> OrgIds { get; }

    /// <summary>The series population.</summary>
    public IReadOnlyList<WorkloadSeries> Series => _series;

    /// <summary>Points generated so far (duplicates and resends included).</summary>
    public long PointsGenerated => _points;

    /// <summary>The start of the time slice being generated.</summary>
    public long CurrentTime => _sliceStart;

    /// <summary>The <paramref name="count"/> largest orgs: candidates for dedicated shards.</summary>
    public IReadOnlyList<uint> LargestOrgs(int count) => [.. OrgIds.Take(count)];

    /// <summary>Writes the next payload's zstd frame to <paramref name="destination"/>.</summary>
    /// <returns>False once the target points or end time is reached.</returns>
    public bool TryNext(IBufferWriter<byte> destination, out GeneratedPayload payload)
    {
        if (_duplicatePending)
        {
            _duplicatePending = false;
            destination.Write(_lastFrame.WrittenSpan);
            _points += _lastInfo.PointCount;
            payload = _lastInfo with { Kind = PayloadKind.Duplicate };
            return true;
        }

        if (_options.TargetPoints is { } target && _points >= target)
        {
            payload = default;
            return false;
        }

        while (true)
        {
            var end = _sliceStart + _options.PayloadSpanSeconds;
            if (_options.EndTime is { } stop && end > stop)
            {
                payload = default;
                return false;
            }

            if (!_delayedDone)
            {
                _delayedDone = true;
                if (_delayed.Remove(_sliceStart, out var entries) && entries.Count > 0)
                {
                    payload = WriteDelayed(entries, end, destination);
                    return true;
                }
            }

            while (_orgCursor < _seriesByOrg.Length && _seriesCursor >= _seriesByOrg[_orgCursor].Length)
            {
                _orgCursor++;
                _seriesCursor = 0;
            }

            if (_orgCursor < _seriesByOrg.Length)
            {
                payload = WriteRegular(end, destination);
                return true;
            }

            _sliceStart = end;
            _orgCursor = 0;
            _seriesCursor = 0;
            _delayedDone = false;
        }
    }

    /// <summary>Releases the payload writer.</summary>
    public void Dispose() => _writer.Dispose();

    private GeneratedPayload WriteRegular(long end, IBufferWriter<byte> destination)
    {
        var members = _seriesByOrg[_orgCursor];
        var org = _series[members[0]].OrgId;
        var intake = IntakeTime(end);
        _writer.Begin(org, intake);
        var entries = 0;
        var points = 0;
        while (_seriesCursor < members.Length && entries < _options.MaxSeriesPerPayload)
        {
            var index = members[_seriesCursor++];
            var n = _generators[index].Fill(end, _timestamps, _values);
            if (n == 0)
            {
                continue;
            }

            var s = _series[index];
            if (WorkloadRandom.Chance(ref _rng, _options.LateRate))
            {
                Delay(index, n, resend: false);
                continue;
            }

            _writer.AddSeries(s.MetricId, s.ContextKey, s.Metadata, _timestamps.AsSpan(0, n), _values.AsSpan(0, n));
            entries++;
            points += n;
            if (WorkloadRandom.Chance(ref _rng, _options.ResendRate))
            {
                Delay(index, n, resend: true);
            }
        }

        return Finish(org, intake, entries, points, PayloadKind.Regular, destination);
    }

    private GeneratedPayload WriteDelayed(List<DelayedEntry> entries, long end, IBufferWriter<byte> destination)
    {
        // Delayed entries of one slice are sent by one org's agent at a time; keep it simple: group all
        // entries of the first org and put the rest back for the next call of the same slice.
        var org = _series[entries[0].Series].OrgId;
        var intake = IntakeTime(end) - 1; // a moment before the regular payloads of this slice
        _writer.Begin(org, intake);
        var points = 0;
        var count = 0;
        var rest = new List<DelayedEntry>();
        foreach (var e in entries)
        {
            var s = _series[e.Series];
            if (s.OrgId != org || count >= _options.MaxSeriesPerPayload)
            {
                rest.Add(e);
                continue;
            }

            _writer.AddSeries(s.MetricId, s.ContextKey, s.Metadata, e.Timestamps, e.Values);
            points += e.Timestamps.Length;
            count++;
        }

        if (rest.Count > 0)
        {
            _delayed[_sliceStart] = rest;
            _delayedDone = false;
        }

        return Finish(org, intake, count, points, PayloadKind.Delayed, destination);
    }

    private GeneratedPayload Finish(uint org, long intake, int entries, int points, PayloadKind kind, IBufferWriter<byte> destination)
    {
        _lastFrame.ResetWrittenCount();
        var length = _writer.Complete(_lastFrame);
        destination.Write(_lastFrame.WrittenSpan);
        _points += points;
        _lastInfo = new GeneratedPayload(org, intake, entries, points, length, kind);
        _duplicatePending = WorkloadRandom.Chance(ref _rng, _options.DuplicateRate);
        return _lastInfo;
    }

    private void Delay(int series, int n, bool resend)
    {
        var spans = WorkloadRandom.NextInt(ref _rng, 1, Math.Max(1, _options.MaxDelaySpans));
        var ts = _timestamps.AsSpan(0, n).ToArray();
        var values = _values.AsSpan(0, n).ToArray();
        if (resend)
        {
            // A producer re-sends a correction: same timestamps, new values.
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = Math.Round((values[i] * 1.01) + 1, 3);
            }
        }

        var due = _sliceStart + ((long)spans * _options.PayloadSpanSeconds);
        if (!_delayed.TryGetValue(due, out var list))
        {
            _delayed[due] = list = [];
        }

        list.Add(new DelayedEntry(series, ts, values));
    }

    private long IntakeTime(long sliceEnd)
    {
        // Agents flush a few hundred milliseconds to seconds after the slice ends.
        var jitterMs = WorkloadRandom.NextInt(ref _rng, 200, 5_000);
        return (sliceEnd * 1_000_000_000L) + (jitterMs * 1_000_000L) + WorkloadRandom.NextInt(ref _rng, 1_000_000);
    }

    private static byte[] MakeTags(ref ulong rng, int orgRank, ulong metric)
    {
        var sb = new StringBuilder(160);
        var service = Services[WorkloadRandom.NextInt(ref rng, Services.Length)];
        sb.Append("metric:").Append(metric <= (ulong)Metrics.Length ? Metrics[metric - 1] : $"custom.metric_{metric}");
        sb.Append(",env:").Append(Envs[WorkloadRandom.NextInt(ref rng, Envs.Length)]);
        sb.Append(",region:").Append(Regions[(orgRank + WorkloadRandom.NextInt(ref rng, 2)) % Regions.Length]);
        sb.Append(",service:").Append(service);
        sb.Append(",host:").Append(service).Append('-').Append(WorkloadRandom.NextInt(ref rng, 1, 400).ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
        sb.Append(",version:1.").Append(WorkloadRandom.NextInt(ref rng, 0, 60)).Append('.').Append(WorkloadRandom.NextInt(ref rng, 0, 9));
        if (WorkloadRandom.Chance(ref rng, 0.5))
        {
            sb.Append(",pod:").Append(service).Append('-').Append(WorkloadRandom.Next(ref rng).ToString("x10", System.Globalization.CultureInfo.InvariantCulture)[..10]);
        }

        sb.Append(",type:").Append(WorkloadRandom.Chance(ref rng, 0.3) ? "count" : "gauge");
        return System.Text.Encoding.UTF8.GetBytes(sb.ToString());
    }

    private sealed record DelayedEntry(int Series, long[] Timestamps, double[] Values);
}
