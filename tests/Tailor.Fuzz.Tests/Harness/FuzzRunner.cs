using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Tailor.Fuzz.Tests.Harness;

/// <summary>One distinct failure: the smallest input seen for it, its seed and where it was saved.</summary>
public sealed record FuzzFailure(string Target, ulong Seed, string Signature, string How, byte[] Input, string Error, bool Hang)
{
    /// <summary>Where the input was written, once saved.</summary>
    public string? SavedPath { get; set; }

    public override string ToString() =>
        $"[{Target}] {Signature}{Environment.NewLine}  case seed 0x{Seed:x16} ({How}), {Input.Length} bytes"
        + (SavedPath is null ? string.Empty : $"{Environment.NewLine}  input: {SavedPath}")
        + $"{Environment.NewLine}  {Error.Replace(Environment.NewLine, Environment.NewLine + "  ", StringComparison.Ordinal)}";
}

/// <summary>The result of running one target.</summary>
public sealed class FuzzReport
{
    public required string Target { get; init; }

    public required ulong BaseSeed { get; init; }

    public int Cases { get; set; }

    public TimeSpan Elapsed { get; set; }

    public double MaxCaseMilliseconds { get; set; }

    public ulong SlowestSeed { get; set; }

    public long InputBytes { get; set; }

    public List<FuzzFailure> Failures { get; } = [];

    public IReadOnlyDictionary<string, long> Outcomes { get; set; } = new Dictionary<string, long>();

    public string? RecoveredCrash { get; set; }

    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{Target}: {Cases:N0} cases in {Elapsed.TotalSeconds:F1} s, {InputBytes / 1024.0 / 1024.0:F1} MiB of input, slowest case {MaxCaseMilliseconds:F0} ms (seed 0x{SlowestSeed:x16}), base seed 0x{BaseSeed:x16}, {Failures.Count} distinct failures");
        text.AppendLine();
        text.Append("  outcomes: ").AppendJoin(", ", Outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value:N0}")).AppendLine();
        if (RecoveredCrash is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  an earlier run crashed on the input saved as {RecoveredCrash}");
        }

        foreach (var failure in Failures)
        {
            text.AppendLine(failure.ToString());
        }

        return text.ToString();
    }
}

/// <summary>
/// Runs a target's cases on one worker thread (so allocation is measured per thread) while the
/// calling thread watches for hangs: a case that runs past <see cref="FuzzSettings.HangAfter"/> is
/// reported with its seed and input, and the stuck worker is abandoned.
/// </summary>
public static class FuzzRunner
{
    private const int MaxDistinctFailures = 16;

    /// <summary>The seed of case <paramref name="index"/> of <paramref name="target"/> under <paramref name="baseSeed"/>.</summary>
    public static ulong CaseSeed(string target, ulong baseSeed, long index) =>
        FuzzRandom.Mix(FuzzRandom.Mix(baseSeed, FuzzRandom.HashName(target)), (ulong)index);

    /// <summary>Runs <paramref name="cases"/> generated cases, then shrinks and saves each distinct failure.</summary>
    /// <param name="target">The target.</param>
    /// <param name="cases">How many cases.</param>
    /// <param name="baseSeed">The run's seed; case i's seed derives from it, the target's name and i.</param>
    /// <param name="hangAfter">How long one case may run; default <see cref="FuzzSettings.HangAfter"/>.</param>
    public static FuzzReport Run(FuzzTarget target, int cases, ulong baseSeed, TimeSpan? hangAfter = null)
    {
        var folder = FuzzSettings.ArtifactsFolder;
        var report = new FuzzReport { Target = target.Name, BaseSeed = baseSeed, RecoveredCrash = InflightRecord.RecoverCrash(folder, target.Name) };
        // Written by the worker only; read by this thread after the worker is done, or, after a hang, as a snapshot.
        var failures = new ConcurrentDictionary<string, FuzzFailure>(StringComparer.Ordinal);
        var watch = Stopwatch.StartNew();
        var inflight = new InflightRecord(folder, target.Name);
        var hang = Watch(target, session =>
        {
            target.WarmUp();
            for (var i = 0; i < cases && failures.Count < MaxDistinctFailures && !session.Abandoned; i++)
            {
                var seed = CaseSeed(target.Name, baseSeed, i);
                var input = target.Generate(new FuzzRandom(seed));
                inflight.Begin(seed, input.Bytes);
                var started = session.Begin(seed, input);
                var failure = RunOne(target, seed, input);
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                session.End();
                report.Cases++;
                report.InputBytes += input.Bytes.Length;
                if (ms > report.MaxCaseMilliseconds)
                {
                    report.MaxCaseMilliseconds = ms;
                    report.SlowestSeed = seed;
                }

                if (failure is not null && (!failures.TryGetValue(failure.Signature, out var known) || failure.Input.Length < known.Input.Length))
                {
                    failures[failure.Signature] = failure;
                }
            }

            // Shrinking runs the target again: take the outcomes of the cases first.
            report.Outcomes = new Dictionary<string, long>(target.Outcomes);
            foreach (var signature in failures.Keys.ToList())
            {
                failures[signature] = Shrink(target, session, failures[signature]);
            }
        }, hangAfter);
        if (hang is null)
        {
            inflight.Dispose();
        }
        else
        {
            // The stuck worker may still write to the in-flight record: leave it mapped (the next run saves it as a crash file).
            failures[hang.Signature] = hang;
        }

        report.Elapsed = watch.Elapsed;
        foreach (var failure in failures.Values.ToArray().OrderBy(f => f.Signature, StringComparer.Ordinal))
        {
            Save(folder, failure);
            report.Failures.Add(failure);
        }

        File.WriteAllText(Path.Combine(folder, $"report-{target.Name}.txt"), report.Describe());
        return report;
    }

    /// <summary>Runs one input (a regression file or a replayed seed) under the hang watch.</summary>
    /// <returns>The failure, or null when the contract holds.</returns>
    public static FuzzFailure? Replay(FuzzTarget target, FuzzInput input, ulong seed = 0, TimeSpan? hangAfter = null)
    {
        FuzzFailure? failure = null;
        var hang = Watch(target, session =>
        {
            target.WarmUp();
            session.Begin(seed, input);
            failure = RunOne(target, seed, input);
            session.End();
        }, hangAfter);
        if ((hang ?? failure) is { } found)
        {
            Save(FuzzSettings.ArtifactsFolder, found);
        }

        return hang ?? failure;
    }

    /// <summary>Rebuilds and runs the case with seed <paramref name="seed"/>.</summary>
    public static FuzzFailure? ReplaySeed(FuzzTarget target, ulong seed) =>
        Replay(target, target.Generate(new FuzzRandom(seed)) with { Thorough = true }, seed);

    private static FuzzFailure? RunOne(FuzzTarget target, ulong seed, FuzzInput input)
    {
        try
        {
            target.Run(input);
            return null;
        }
        catch (Exception e)
        {
            return new FuzzFailure(target.Name, seed, Signature(e), input.How, input.Bytes, e.ToString(), Hang: false);
        }
    }

    /// <summary>What makes two failures the same bug: the contract check, or the exception type and the product method that threw.</summary>
    private static string Signature(Exception e)
    {
        if (e is ContractViolationException violation)
        {
            return "contract: " + violation.Check;
        }

        var frame = new StackTrace(e).GetFrames()
            .Select(f => f.GetMethod())
            .FirstOrDefault(m => m?.DeclaringType?.FullName is { } type && type.StartsWith("Tailor.", StringComparison.Ordinal) && !type.StartsWith("Tailor.Fuzz.", StringComparison.Ordinal));
        var where = frame is null ? "outside Tailor" : $"{frame.DeclaringType!.Name}.{frame.Name}";
        return $"{e.GetType().Name} in {where}";
    }

    /// <summary>Deletes chunks of a failing input while the same failure remains, so regression files stay small.</summary>
    private static FuzzFailure Shrink(FuzzTarget target, Session session, FuzzFailure failure)
    {
        var input = failure.Input;
        var input0 = input.Length;
        var deadline = Stopwatch.StartNew();
        var attempts = 0;
        for (var chunk = Math.Max(1, input.Length / 2); chunk >= 1 && attempts < 2000 && deadline.Elapsed < TimeSpan.FromSeconds(20) && !session.Abandoned; chunk /= 2)
        {
            for (var at = 0; at + chunk <= input.Length && attempts < 2000 && !session.Abandoned;)
            {
                var candidate = new byte[input.Length - chunk];
                input.AsSpan(0, at).CopyTo(candidate);
                input.AsSpan(at + chunk).CopyTo(candidate.AsSpan(at));
                attempts++;
                var probe = new FuzzInput(candidate, failure.How);
                session.Begin(failure.Seed, probe);
                var result = RunOne(target, failure.Seed, probe);
                session.End();
                if (result?.Signature == failure.Signature)
                {
                    input = candidate;
                    failure = result with { Seed = failure.Seed };
                }
                else
                {
                    at += chunk;
                }
            }

            if (chunk == 1)
            {
                break;
            }
        }

        return failure.Input.Length < input0 ? failure with { How = $"{failure.How}; shrunk from {input0} bytes" } : failure;
    }

    private static void Save(string folder, FuzzFailure failure)
    {
        var targetFolder = Path.Combine(folder, failure.Target);
        Directory.CreateDirectory(targetFolder);
        var slug = new string(failure.Signature.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-').ToArray()).Trim('-');
        while (slug.Contains("--", StringComparison.Ordinal))
        {
            slug = slug.Replace("--", "-", StringComparison.Ordinal);
        }

        var path = Path.Combine(targetFolder, $"{slug}-{failure.Seed:x16}.bin");
        File.WriteAllBytes(path, failure.Input);
        File.WriteAllText(Path.ChangeExtension(path, ".txt"), failure.ToString());
        failure.SavedPath = path;
    }

    /// <summary>Runs <paramref name="work"/> on a worker thread and returns a hang failure if a case outlives the limit.</summary>
    private static FuzzFailure? Watch(FuzzTarget target, Action<Session> work, TimeSpan? hangAfter)
    {
        var session = new Session();
        Exception? crashed = null;
        var worker = new Thread(() =>
        {
            try
            {
                work(session);
            }
            catch (Exception e)
            {
                crashed = e;
            }
        }, maxStackSize: 16 << 20)
        {
            IsBackground = true, // a hung worker must not keep the test process alive
            Name = $"fuzz {target.Name}",
        };
        worker.Start();
        var limit = hangAfter ?? FuzzSettings.HangAfter;
        while (!worker.Join(50))
        {
            if (session.Running(out var seed, out var input, out var elapsed) && elapsed > limit)
            {
                // The worker cannot be stopped inside the case; it stops at the next one, or never.
                session.Abandoned = true;
                return new FuzzFailure(target.Name, seed, "hang", input!.How, input.Bytes,
                    $"The case ran for more than {limit.TotalSeconds:F0} s; the worker thread was abandoned.", Hang: true);
            }
        }

        if (crashed is not null)
        {
            throw new InvalidOperationException($"The fuzz harness itself failed for {target.Name}.", crashed);
        }

        return null;
    }

    /// <summary>What the worker is doing, read by the watching thread.</summary>
    private sealed class Session
    {
        private readonly Lock _gate = new();
        private bool _abandoned;
        private ulong _seed;
        private FuzzInput? _input;
        private long _started;

        /// <summary>Set when the watcher gave up on a hung case: the worker runs no further case.</summary>
        public bool Abandoned
        {
            get => Volatile.Read(ref _abandoned);
            set => Volatile.Write(ref _abandoned, value);
        }

        public long Begin(ulong seed, FuzzInput input)
        {
            var now = Stopwatch.GetTimestamp();
            lock (_gate)
            {
                _seed = seed;
                _input = input;
                _started = now;
            }

            return now;
        }

        public void End()
        {
            lock (_gate)
            {
                _input = null;
            }
        }

        public bool Running(out ulong seed, out FuzzInput? input, out TimeSpan elapsed)
        {
            lock (_gate)
            {
                seed = _seed;
                input = _input;
                elapsed = input is null ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_started);
                return input is not null;
            }
        }
    }
}
