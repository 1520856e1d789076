using Tailor.Format.Payloads;
using Tailor.Fuzz.Tests.Harness;

namespace Tailor.Fuzz.Tests.Targets;

/// <summary>
/// Payload frames (a Kafka message value, a segment record) through <see cref="PayloadDecoder"/>.
/// Contract: <c>TryDecode</c> and <c>TryValidate</c> never throw and return a defined status; an Ok
/// payload walks entry by entry to exactly the summary <c>TryValidate</c> gave; no call allocates more
/// than the configured body limit (1 MiB here, so a 16 MiB default that leaks through is caught)
/// plus a small constant, whatever size the frame declares.
/// </summary>
public sealed class PayloadFrameTarget : FuzzTarget
{
    /// <summary>The decoder's configured body limit: smaller than the default, so the bound is the configured one.</summary>
    public const int MaxPayloadBytes = 1 << 20;

    private readonly PayloadDecoder _decoder = new(MaxPayloadBytes);
    private readonly GuardedBuffer? _guard = GuardedBuffer.TryCreate(4 << 20);
    private readonly long[] _timestamps = new long[(MaxPayloadBytes / 9) + 1];
    private readonly double[] _values = new double[(MaxPayloadBytes / 9) + 1];

    public override string Name => "payload-frame";

    public override int DefaultCases => 16_000;

    public override FuzzInput Generate(FuzzRandom random)
    {
        var seeds = PayloadCorpus.Seeds;
        var seed = random.Pick(seeds);
        var log = new List<string>();
        var roll = random.Next(100);
        if (roll < 4)
        {
            return new FuzzInput(seed.Frame.Bytes, "valid frame", Pristine: true);
        }

        if (roll < 40)
        {
            var frame = ByteMutator.Mutate(random, seed.Frame, PayloadCorpus.Tokens, random.Pick(seeds).Frame.Bytes, log);
            return new FuzzInput(frame, "frame mutated: " + string.Join(", ", log));
        }

        if (roll < 88)
        {
            var body = ByteMutator.Mutate(random, seed.Body, PayloadCorpus.Tokens, random.Pick(seeds).Body.Bytes, log, maxLength: (2 * MaxPayloadBytes) - 4096);
            var sized = roll < 80;
            var frame = sized ? Zstd.Compress(body, level: 1) : Zstd.CompressWithoutContentSize(body, level: 1);
            return new FuzzInput(frame, (sized ? "body mutated: " : "body mutated, frame without size: ") + string.Join(", ", log));
        }

        if (roll < 94)
        {
            return new FuzzInput(random.NextBytes(random.NextLength(4096)), "random bytes");
        }

        var bytes = random.NextBytes(random.NextLength(512) + 4);
        PayloadCorpus.Tokens[1].CopyTo(bytes, 0);
        return new FuzzInput(bytes, "zstd magic then random bytes");
    }

    public override void Run(FuzzInput input)
    {
        var frame = _guard is null ? input.Bytes : _guard.Place(input.Bytes);
        var bound = Contract.PoolSize(MaxPayloadBytes) + (64 * 1024);

        var before = Contract.AllocatedSoFar();
        var status = _decoder.TryValidate(frame, out var summary);
        Contract.Allocated("PayloadDecoder.TryValidate", before, bound);
        Contract.That(status is >= PayloadStatus.Ok and <= PayloadStatus.Malformed, "undefined status", $"{(int)status}");
        Contract.That(!input.Pristine || status == PayloadStatus.Ok, "valid payload rejected", $"{status}");
        Contract.That(_decoder.LastBody.Length <= MaxPayloadBytes, "body over the limit", $"{_decoder.LastBody.Length} bytes");

        before = Contract.AllocatedSoFar();
        var decoded = _decoder.TryDecode(frame, out var reader);
        Contract.That(status == PayloadStatus.Ok ? decoded == PayloadStatus.Ok : decoded == status || status == PayloadStatus.Malformed,
            "TryDecode disagrees with TryValidate", $"{decoded} against {status}");
        if (decoded == PayloadStatus.Ok)
        {
            long points = 0;
            var min = long.MaxValue;
            var max = long.MinValue;
            var entries = 0;
            var allTimestampsValid = true;
            while (reader.TryReadSeries(out var series))
            {
                entries++;
                Contract.That(series.Metadata.Length <= Tailor.Format.FormatLimits.MaxMetadataBytes, "metadata over the limit");
                Contract.That(series.EncodedValues.Length == 8 * series.PointCount, "values span does not match the point count");
                var valid = series.TryDecodeTimestamps(_timestamps);
                var ranged = series.TryGetTimeRange(out var seriesMin, out var seriesMax);
                Contract.That(valid == ranged, "TryDecodeTimestamps and TryGetTimeRange disagree");
                allTimestampsValid &= valid;
                series.DecodeValues(_values);
                if (valid)
                {
                    points += series.PointCount;
                    for (var i = 0; i < series.PointCount; i++)
                    {
                        min = Math.Min(min, _timestamps[i]);
                        max = Math.Max(max, _timestamps[i]);
                    }

                    Contract.That(series.PointCount == 0 || (min <= seriesMin && max >= seriesMax), "time range does not match the decoded timestamps");
                }
            }

            Contract.That(entries <= reader.Header.SeriesCount, "more entries than the header counts");
            if (status == PayloadStatus.Ok)
            {
                Contract.That(reader.Status == PayloadStatus.Ok && allTimestampsValid && entries == summary.SeriesCount, "a validated payload does not read back",
                    $"status {reader.Status}, {entries} of {summary.SeriesCount} entries");
                Contract.That(points == summary.PointCount && (points == 0 || (min == summary.MinTimestamp && max == summary.MaxTimestamp)),
                    "summary does not match the entries", $"{points} points against {summary.PointCount}");
                Contract.That(summary.BodyLength == _decoder.LastBody.Length, "summary body length is wrong");
            }
        }

        Contract.Allocated("PayloadDecoder.TryDecode and PayloadReader", before, bound);
        Count(status switch
        {
            PayloadStatus.Ok => "ok",
            PayloadStatus.NotAFrame => "not a frame",
            PayloadStatus.CorruptFrame => "corrupt frame",
            PayloadStatus.TooLarge => "too large",
            PayloadStatus.BadMagic => "bad magic",
            PayloadStatus.UnsupportedVersion => "unsupported version",
            _ => "malformed",
        });
    }

    protected override void Dispose(bool disposing)
    {
        _decoder.Dispose();
        _guard?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>
/// Decompressed payload bodies straight into <see cref="PayloadReader"/> (no zstd in the way, so
/// every case reaches the parser). Contract: no exception; <c>Validate</c> agrees with an
/// entry-by-entry walk; the input sits against a guard page so an over-read faults; reading
/// allocates nothing at all.
/// </summary>
public sealed class PayloadBodyTarget : FuzzTarget
{
    private const int MaxBody = 1 << 20;

    // Reading allocates nothing; the slack absorbs the runtime's own rare allocations on this thread (a few KiB
    // seen once in 200,000 cases, not reproducible: tiering, type loads), far below any length-driven allocation.
    private const int NoAllocation = 64 * 1024;

    private readonly GuardedBuffer? _guard = GuardedBuffer.TryCreate(MaxBody + 4096);
    private long[] _timestamps = new long[(MaxBody / 9) + 1];
    private double[] _values = new double[(MaxBody / 9) + 1];

    public override string Name => "payload-body";

    public override int DefaultCases => 24_000;

    public override FuzzInput Generate(FuzzRandom random)
    {
        var seeds = PayloadCorpus.Seeds;
        var seed = random.Pick(seeds);
        var roll = random.Next(100);
        if (roll < 4)
        {
            return new FuzzInput(seed.Body.Bytes, "valid body", Pristine: true);
        }

        if (roll < 90)
        {
            var log = new List<string>();
            var body = ByteMutator.Mutate(random, seed.Body, PayloadCorpus.Tokens, random.Pick(seeds).Body.Bytes, log, maxLength: MaxBody);
            return new FuzzInput(body, "body mutated: " + string.Join(", ", log));
        }

        var bytes = random.NextBytes(random.NextLength(2048) + (roll < 95 ? 0 : 20));
        if (roll >= 95)
        {
            seed.Body.Bytes.AsSpan(0, 16).CopyTo(bytes); // a valid header, then garbage
        }

        return new FuzzInput(bytes, roll < 95 ? "random bytes" : "valid header then random bytes");
    }

    public override void Run(FuzzInput input)
    {
        if (input.Bytes.Length / 9 >= _timestamps.Length)
        {
            _timestamps = new long[(input.Bytes.Length / 9) + 1];
            _values = new double[_timestamps.Length];
        }

        var body = _guard is null ? input.Bytes : _guard.Place(input.Bytes);
        var before = Contract.AllocatedSoFar();
        var status = PayloadReader.TryCreate(body, out var reader);
        Contract.That(status is >= PayloadStatus.Ok and <= PayloadStatus.Malformed, "undefined status");
        Contract.That(!input.Pristine || status == PayloadStatus.Ok, "valid body rejected", $"{status}");
        if (status != PayloadStatus.Ok)
        {
            Contract.Allocated("PayloadReader.TryCreate", before, NoAllocation);
            Count("rejected header");
            return;
        }

        long points = 0;
        var entries = 0;
        var timestampsValid = true;
        while (reader.TryReadSeries(out var series))
        {
            entries++;
            Contract.That(series.EncodedValues.Length == 8 * series.PointCount && series.EncodedTimestamps.Length >= series.PointCount,
                "entry spans do not match the point count");
            var valid = series.TryDecodeTimestamps(_timestamps);
            Contract.That(valid == series.TryGetTimeRange(out _, out _), "TryDecodeTimestamps and TryGetTimeRange disagree");
            timestampsValid &= valid;
            series.DecodeValues(_values);
            points += series.PointCount;
        }

        var walked = reader.Status;
        Contract.That(walked != PayloadStatus.Ok || reader.Position == body.Length, "an Ok walk left bytes unread");
        PayloadReader.TryCreate(body, out var again);
        var validated = again.Validate(out var summary);
        Contract.Allocated("PayloadReader", before, NoAllocation);
        var expected = walked == PayloadStatus.Ok && timestampsValid ? PayloadStatus.Ok : PayloadStatus.Malformed;
        Contract.That(validated == expected, "Validate disagrees with the walk", $"{validated} against {expected}");
        Contract.That(validated != PayloadStatus.Ok || (summary.PointCount == points && summary.SeriesCount == entries), "Validate's summary is wrong");
        Contract.That(!input.Pristine || validated == PayloadStatus.Ok, "valid body does not validate");
        Count(validated == PayloadStatus.Ok ? "ok" : entries > 0 ? "malformed after an entry" : "malformed first entry");
    }

    protected override void Dispose(bool disposing)
    {
        _guard?.Dispose();
        base.Dispose(disposing);
    }
}
