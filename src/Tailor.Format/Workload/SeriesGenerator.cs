namespace Tailor.Format.Workload;

/// <summary>One point of a generated series.</summary>
/// <param name="TimestampSeconds">Unix epoch seconds.</param>
/// <param name="Value">The sample.</param>
public readonly record struct SeriesPoint(long TimestampSeconds, double Value);

/// <summary>
/// The generator state of one realistic series: a small mutable struct that yields the series'
/// points in time order, one at a time, without allocating.
/// </summary>
/// <remarks>
/// <para>
/// Deterministic: the same <see cref="SeriesFamily"/>, interval, seed and start time give the same
/// points on every run and platform (only correctly rounded IEEE 754 operations are used). Producing
/// points slice by slice (<see cref="Fill"/> with increasing ends) gives exactly the points that one
/// call over the whole range gives, so a payload generator can advance thousands of these side by side.
/// </para>
/// <para>
/// A series never ends: <see cref="Next"/> always returns a point. Timestamps are strictly increasing
/// and never earlier than the start time. The struct is a value: copy it to fork a series, keep it in
/// an array (and advance it by <c>ref</c>) to drive many. It is about 100 bytes.
/// </para>
/// </remarks>
public struct SeriesGenerator
{
    /// <summary>Per-point probability that a counter restarts from zero (a process restart).</summary>
    public const double CounterResetProbability = 1.0 / 10_000;

    /// <summary>Per-slot probability that a <see cref="SeriesFamily.Jittered"/> series skips a point.</summary>
    public const double JitteredSkipProbability = 0.03;

    private ulong _rng;
    private long _slot;
    private long _nextTimestamp;
    private double _nextValue;
    private double _x;
    private double _y;
    private readonly long _grid0;
    private readonly int _interval;
    private readonly int _jitterSeconds;
    private readonly short _phaseMs;
    private readonly short _timingSigmaMs;
    private readonly SeriesFamily _family;
    private readonly byte _kind;
    private readonly byte _decimals;
    private readonly double _p1;
    private readonly double _p2;
    private readonly double _p3;
    private readonly double _p4;

    /// <summary>The family this series belongs to.</summary>
    public readonly SeriesFamily Family => _family;

    /// <summary>The nominal spacing of points in seconds.</summary>
    public readonly int IntervalSeconds => _interval;

    /// <summary>The timestamp of the point the next <see cref="Next"/> call returns.</summary>
    public readonly long NextTimestamp => _nextTimestamp;

    /// <summary>Creates the generator of one series.</summary>
    /// <param name="family">The series family.</param>
    /// <param name="intervalSeconds">Nominal spacing of points, 1 .. 86,400 s (the workload uses 10, 15 and 60).</param>
    /// <param name="seed">Any 64-bit seed; series with different seeds are independent.</param>
    /// <param name="startSeconds">No point is earlier than this (Unix epoch seconds).</param>
    /// <returns>The generator, positioned before its first point.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The family is undefined or the interval is out of range.</exception>
    public static SeriesGenerator Create(SeriesFamily family, int intervalSeconds, ulong seed, long startSeconds)
    {
        if ((uint)family >= SeriesFamilies.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(family), family, "Unknown series family.");
        }

        if (intervalSeconds is < 1 or > 86_400)
        {
            throw new ArgumentOutOfRangeException(nameof(intervalSeconds), intervalSeconds, "The interval must be 1 .. 86,400 seconds.");
        }

        if (startSeconds is < -(1L << 50) or > 1L << 50)
        {
            throw new ArgumentOutOfRangeException(nameof(startSeconds), startSeconds, "The start time is out of the supported range (±2^50 s).");
        }

        return new SeriesGenerator(family, intervalSeconds, seed, startSeconds);
    }

    /// <summary>
    /// Generates the points of one series in [<paramref name="startSeconds"/>, <paramref name="endSeconds"/>)
    /// into caller buffers.
    /// </summary>
    /// <param name="family">The series family.</param>
    /// <param name="intervalSeconds">Nominal spacing of points.</param>
    /// <param name="seed">The series seed.</param>
    /// <param name="startSeconds">Start of the range (inclusive).</param>
    /// <param name="endSeconds">End of the range (exclusive).</param>
    /// <param name="timestamps">Receives the timestamps.</param>
    /// <param name="values">Receives the values.</param>
    /// <returns>The number of points written; it stops early when a span is full
    /// (<see cref="GetMaxPointCount"/> sizes buffers that never fill).</returns>
    public static int Generate(SeriesFamily family, int intervalSeconds, ulong seed, long startSeconds, long endSeconds, Span<long> timestamps, Span<double> values)
    {
        var generator = Create(family, intervalSeconds, seed, startSeconds);
        return generator.Fill(endSeconds, timestamps, values);
    }

    /// <summary>An upper bound on the number of points any series of the interval has in a range of the duration.</summary>
    /// <param name="intervalSeconds">Nominal spacing of points.</param>
    /// <param name="durationSeconds">Length of the range in seconds (non-negative).</param>
    /// <returns>The bound, <c>duration / interval + 3</c>.</returns>
    public static int GetMaxPointCount(int intervalSeconds, long durationSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(intervalSeconds, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(durationSeconds);
        return checked((int)((durationSeconds / intervalSeconds) + 3));
    }

    /// <summary>Returns the next point and advances.</summary>
    /// <returns>The point; its timestamp is <see cref="NextTimestamp"/> before the call.</returns>
    public SeriesPoint Next()
    {
        var point = new SeriesPoint(_nextTimestamp, _nextValue);
        Advance();
        return point;
    }

    /// <summary>
    /// Writes the points whose timestamps are before <paramref name="endSeconds"/> into the spans, in
    /// order, and advances past them.
    /// </summary>
    /// <param name="endSeconds">Exclusive end of the slice.</param>
    /// <param name="timestamps">Receives timestamps.</param>
    /// <param name="values">Receives values.</param>
    /// <returns>The number of points written. Fewer than the points before the end when the shorter
    /// span fills up; the next call continues where this one stopped.</returns>
    public int Fill(long endSeconds, Span<long> timestamps, Span<double> values)
    {
        int capacity = Math.Min(timestamps.Length, values.Length);
        int count = 0;
        while (count < capacity && _nextTimestamp < endSeconds)
        {
            timestamps[count] = _nextTimestamp;
            values[count] = _nextValue;
            count++;
            Advance();
        }

        return count;
    }

    /// <summary>Advances past every point before <paramref name="endSeconds"/> without returning them.</summary>
    /// <param name="endSeconds">Exclusive end.</param>
    /// <returns>The number of points skipped.</returns>
    public int SkipUntil(long endSeconds)
    {
        int count = 0;
        while (_nextTimestamp < endSeconds)
        {
            count++;
            Advance();
        }

        return count;
    }

    private SeriesGenerator(SeriesFamily family, int interval, ulong seed, long start)
    {
        _family = family;
        _interval = interval;
        _rng = WorkloadRandom.Mix(seed, 0x7461696C6F72UL + (ulong)family);
        ref ulong r = ref _rng;

        // Agent timing. Scrapers and agents run at a fixed offset within the interval; the timestamp is
        // their clock (ms) truncated to seconds, so a sub-second phase plus run-time noise makes some
        // points land one second early or late. Sparse series are flushed on exact interval boundaries.
        int offset = family == SeriesFamily.Sparse ? 0 : WorkloadRandom.NextInt(ref r, interval);
        _phaseMs = (short)WorkloadRandom.NextInt(ref r, 1000);
        double timing = WorkloadRandom.NextDouble(ref r);
        _timingSigmaMs = family == SeriesFamily.Sparse || family == SeriesFamily.Jittered ? (short)0 : timing < 0.70 ? (short)3 : timing < 0.95 ? (short)50 : (short)300;
        _jitterSeconds = family == SeriesFamily.Jittered ? Math.Max(1, (int)(interval * WorkloadRandom.NextDouble(ref r, 0.05, 0.25))) : 0;
        long margin = family switch
        {
            SeriesFamily.Sparse => 0,
            SeriesFamily.Jittered => _jitterSeconds,
            _ => 2,
        };
        long first = start + margin;
        long phase = ((((first - offset) % interval) + interval) % interval);
        _grid0 = phase == 0 ? first : first + (interval - phase);

        switch (family)
        {
            case SeriesFamily.Counter:
            {
                double ratePerSecond = WorkloadRandom.NextDecades(ref r, -2, 5);
                _p1 = ratePerSecond * interval;
                double uptime = WorkloadRandom.NextDouble(ref r, 0, 30 * 86_400.0);
                _x = Math.Round(ratePerSecond * uptime);
                _y = 1;
                break;
            }

            case SeriesFamily.IntegerGauge:
                if (WorkloadRandom.Chance(ref r, 0.5))
                {
                    _kind = 0; // bytes
                    _p1 = WorkloadRandom.NextDecades(ref r, 6, 10);
                    _p2 = _p1 * WorkloadRandom.NextDouble(ref r, 0.0005, 0.01);
                    _p3 = WorkloadRandom.Chance(ref r, 0.6) ? 4096 : 1;
                }
                else
                {
                    _kind = 1; // a count
                    _p1 = WorkloadRandom.NextDecades(ref r, 0, 2);
                    _p2 = Math.Max(0.3, _p1 * WorkloadRandom.NextDouble(ref r, 0.01, 0.1));
                    _p3 = 1;
                }

                _x = _p1;
                break;

            case SeriesFamily.RoundedPercent:
                _p1 = WorkloadRandom.NextDouble(ref r, 2, 95);
                _p2 = WorkloadRandom.NextDouble(ref r, 0.2, 5);
                _decimals = WorkloadRandom.Chance(ref r, 0.5) ? (byte)1 : (byte)2;
                _x = _p1;
                break;

            case SeriesFamily.RatioPercent:
            {
                _kind = WorkloadRandom.Chance(ref r, 0.7) ? (byte)0 : (byte)1; // percent or fraction
                _p1 = WorkloadRandom.NextDouble(ref r, 0.01, 0.9);
                _p2 = WorkloadRandom.NextDouble(ref r, 0.01, 0.1);
                int cores = 1 << WorkloadRandom.NextInt(ref r, 7); // 1 .. 64
                _p3 = interval * 100.0 * cores; // USER_HZ ticks per interval
                _x = _p1;
                break;
            }

            case SeriesFamily.Temperature:
                _p1 = WorkloadRandom.NextDouble(ref r, 25, 75);
                _p2 = WorkloadRandom.NextDouble(ref r, 0, 5);
                _p3 = WorkloadRandom.NextDouble(ref r, 0.1, 1);
                _p4 = WorkloadRandom.NextDouble(ref r);
                _decimals = WorkloadRandom.Chance(ref r, 0.6) ? (byte)1 : (byte)2;
                break;

            case SeriesFamily.Latency:
                _kind = WorkloadRandom.Chance(ref r, 0.5) ? (byte)0 : (byte)1; // milliseconds or seconds
                _p1 = WorkloadRandom.NextDecades(ref r, 2, 5); // mean request time, µs
                _p2 = WorkloadRandom.NextDecades(ref r, -1, 3); // requests per interval
                break;

            case SeriesFamily.Constant:
            {
                double kind = WorkloadRandom.NextDouble(ref r);
                _x = kind < 0.4 ? 1
                    : kind < 0.7 ? WorkloadRandom.NextInt(ref r, 0, 64)
                    : kind < 0.9 ? (double)(1L << WorkloadRandom.NextInt(ref r, 20, 40))
                    : WorkloadRandom.NextInt(ref r, 1, 100) / 10.0;
                break;
            }

            case SeriesFamily.Step:
            {
                double kind = WorkloadRandom.NextDouble(ref r);
                _kind = kind < 0.3 ? (byte)0 : kind < 0.8 ? (byte)1 : (byte)2; // status, count, decimal setting
                ReadOnlySpan<double> changeProbabilities = [0.0005, 0.001, 0.002, 0.005, 0.01];
                _p1 = changeProbabilities[WorkloadRandom.NextInt(ref r, changeProbabilities.Length)];
                _x = _kind switch
                {
                    0 => WorkloadRandom.Chance(ref r, 0.9) ? 1 : 0,
                    1 => WorkloadRandom.NextInt(ref r, 1, 20),
                    _ => WorkloadRandom.RoundDecimals(WorkloadRandom.NextDouble(ref r, 0, 10), 2),
                };
                break;
            }

            case SeriesFamily.Sparse:
                _kind = WorkloadRandom.Chance(ref r, 0.6) ? (byte)0 : (byte)1; // count or per-second rate
                _p1 = WorkloadRandom.NextDouble(ref r, 0.005, 0.05); // idle → active per slot
                _y = WorkloadRandom.Chance(ref r, 0.3) ? 1 : 0;
                break;

            case SeriesFamily.Jittered:
                _kind = WorkloadRandom.Chance(ref r, 0.6) ? (byte)0 : (byte)1; // two decimals or integer
                _p1 = WorkloadRandom.NextDecades(ref r, 0, 3);
                _p2 = _p1 * WorkloadRandom.NextDouble(ref r, 0.01, 0.05);
                _x = _p1;
                break;
        }

        _slot = -1;
        Advance();
    }

    /// <summary>Moves to the next slot that emits a point and computes that point.</summary>
    private void Advance()
    {
        ref ulong r = ref _rng;
        while (true)
        {
            _slot++;
            long nominal = _grid0 + (_slot * _interval);
            switch (_family)
            {
                case SeriesFamily.Sparse:
                {
                    // Bursty two-state source: a point exists only when the flush window saw events.
                    if (_y != 0)
                    {
                        if (WorkloadRandom.Chance(ref r, 0.25))
                        {
                            _y = 0;
                        }
                    }
                    else if (WorkloadRandom.Chance(ref r, _p1))
                    {
                        _y = 1;
                    }

                    if (_y == 0)
                    {
                        continue;
                    }

                    int events = 1;
                    while (events < 20 && WorkloadRandom.Chance(ref r, 0.5))
                    {
                        events++;
                    }

                    _nextTimestamp = nominal;
                    _nextValue = _kind == 0 ? events : events / (double)_interval;
                    return;
                }

                case SeriesFamily.Jittered:
                    if (WorkloadRandom.Chance(ref r, JitteredSkipProbability))
                    {
                        continue;
                    }

                    _nextTimestamp = nominal + WorkloadRandom.NextInt(ref r, -_jitterSeconds, _jitterSeconds);
                    _x = _p1 + (0.9 * (_x - _p1)) + (_p2 * WorkloadRandom.NextNormal(ref r));
                    _nextValue = _kind == 0 ? WorkloadRandom.RoundDecimals(_x, 2) : Math.Round(_x);
                    return;

                default:
                {
                    long ms = _phaseMs + (long)Math.Round(_timingSigmaMs * WorkloadRandom.NextNormal(ref r));
                    _nextTimestamp = nominal + FloorDiv(ms, 1000);
                    _nextValue = NextRegularValue(ref r);
                    return;
                }
            }
        }
    }

    private double NextRegularValue(ref ulong r)
    {
        switch (_family)
        {
            case SeriesFamily.Counter:
            {
                // Traffic swings slowly around its mean; increments are Poisson-like integers.
                _y = Math.Clamp(1 + (0.9 * (_y - 1)) + (0.05 * WorkloadRandom.NextNormal(ref r)), 0.2, 3);
                double mean = _p1 * _y;
                double increment = mean < 1
                    ? (WorkloadRandom.Chance(ref r, mean) ? 1 : 0)
                    : Math.Max(0, Math.Round(mean + (Math.Sqrt(mean) * WorkloadRandom.NextNormal(ref r))));
                if (WorkloadRandom.Chance(ref r, CounterResetProbability))
                {
                    _x = 0;
                }

                _x += increment;
                return _x;
            }

            case SeriesFamily.IntegerGauge:
                _x = Math.Max(0, _p1 + (0.95 * (_x - _p1)) + (_p2 * WorkloadRandom.NextNormal(ref r)));
                return Math.Round(_x / _p3) * _p3;

            case SeriesFamily.RoundedPercent:
                _x = Math.Clamp(_p1 + (0.9 * (_x - _p1)) + (_p2 * WorkloadRandom.NextNormal(ref r)), 0, 100);
                return WorkloadRandom.RoundDecimals(_x, _decimals);

            case SeriesFamily.RatioPercent:
            {
                _x = Math.Clamp(_p1 + (0.9 * (_x - _p1)) + (_p2 * WorkloadRandom.NextNormal(ref r)), 0, 1);
                double total = _p3 + WorkloadRandom.NextInt(ref r, -2, 2);
                double busy = Math.Clamp(Math.Round(_x * total), 0, total);
                return _kind == 0 ? busy * 100.0 / total : busy / total;
            }

            case SeriesFamily.Temperature:
            {
                _x = (0.95 * _x) + (_p3 * WorkloadRandom.NextNormal(ref r));
                double day = (_nextTimestamp % 86_400) / 86_400.0;
                double p = day + _p4;
                p -= Math.Floor(p);
                return WorkloadRandom.RoundDecimals(_p1 + (_p2 * WorkloadRandom.Wave(p)) + _x, _decimals);
            }

            case SeriesFamily.Latency:
            {
                // Agents report sum / count of the requests in the interval: a full-precision double.
                _x = (0.95 * _x) + (0.05 * WorkloadRandom.NextNormal(ref r));
                double drift = Math.Clamp(1 + _x, 0.3, 3);
                double count = _p2 < 1
                    ? (WorkloadRandom.Chance(ref r, _p2) ? 1 : 0)
                    : Math.Max(0, Math.Round(_p2 + (Math.Sqrt(_p2) * WorkloadRandom.NextNormal(ref r))));
                if (count == 0)
                {
                    return 0;
                }

                double sumMicros = Math.Max(1, Math.Round(count * _p1 * drift * (1 + (0.3 * WorkloadRandom.NextNormal(ref r) / Math.Sqrt(count)))));
                return _kind == 0 ? sumMicros / 1000.0 / count : sumMicros / 1e6 / count;
            }

            case SeriesFamily.Constant:
                return _x;

            case SeriesFamily.Step:
                if (WorkloadRandom.Chance(ref r, _p1))
                {
                    _x = _kind switch
                    {
                        0 => 1 - _x,
                        1 => Math.Max(0, _x + (WorkloadRandom.Chance(ref r, 0.5) ? 1 : -1) * WorkloadRandom.NextInt(ref r, 1, 3)),
                        _ => WorkloadRandom.RoundDecimals(WorkloadRandom.NextDouble(ref r, 0, 10), 2),
                    };
                }

                return _x;

            default:
                return 0;
        }
    }

    private static long FloorDiv(long a, long b)
    {
        long q = a / b;
        return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
    }
}
