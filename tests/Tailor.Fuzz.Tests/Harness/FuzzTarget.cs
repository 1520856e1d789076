using System.Runtime.CompilerServices;

namespace Tailor.Fuzz.Tests.Harness;

/// <summary>One generated or mutated input and how it was made.</summary>
/// <param name="Bytes">The bytes the target consumes (also what a regression file holds).</param>
/// <param name="How">The generator and mutations that made it, for failure reports.</param>
/// <param name="Pristine">A valid input left unmodified: the target must accept it completely.</param>
/// <param name="Thorough">Run every reader, the costly ones (files on disk) too: set for replays and regression files.</param>
public sealed record FuzzInput(byte[] Bytes, string How, bool Pristine = false, bool Thorough = false);

/// <summary>
/// A fuzzing target: a generator of inputs (valid ones built with the product's own writers, then
/// mutated) and a contract that every input must satisfy when run through the product.
/// </summary>
/// <remarks>
/// <see cref="Run"/> throws <see cref="ContractViolationException"/> when the product breaks the contract
/// in a way it can see (a result that contradicts another reader, an allocation over the bound) and
/// lets any exception that the contract does not allow escape: the runner reports both with the seed.
/// A target instance belongs to one thread.
/// </remarks>
public abstract class FuzzTarget : IDisposable
{
    private readonly Dictionary<string, long> _outcomes = new(StringComparer.Ordinal);

    /// <summary>The target's name: the folder of its regression files.</summary>
    public abstract string Name { get; }

    /// <summary>The number of cases of the default run (scaled by TAILOR_FUZZ_SCALE).</summary>
    public abstract int DefaultCases { get; }

    /// <summary>How many cases ended in each outcome, to show how deep the inputs reach.</summary>
    public IReadOnlyDictionary<string, long> Outcomes => _outcomes;

    /// <summary>
    /// Runs one generated case before any is measured, so one-time work (serializer metadata, static
    /// tables, first pool rents) is not charged to the first case; its outcome is not counted.
    /// </summary>
    public virtual void WarmUp()
    {
        try
        {
            Run(Generate(new FuzzRandom(0)) with { Pristine = false });
        }
        catch (Exception e) when (e is ContractViolationException or not OutOfMemoryException)
        {
            // A failing case fails again when the run reaches it.
        }

        _outcomes.Clear();
    }

    /// <summary>Builds one input from the case's random source.</summary>
    public abstract FuzzInput Generate(FuzzRandom random);

    /// <summary>Runs one input through the product and checks the contract.</summary>
    public abstract void Run(FuzzInput input);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Counts one outcome (use string literals: counting allocates nothing).</summary>
    protected void Count(string outcome)
    {
        _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>The product broke a target's contract without throwing (or threw what it may not).</summary>
public sealed class ContractViolationException : Exception
{
    public ContractViolationException(string check, string detail)
        : base($"{check}: {detail}")
    {
        Check = check;
    }

    public ContractViolationException()
    {
        Check = "contract";
    }

    public ContractViolationException(string message)
        : base(message)
    {
        Check = "contract";
    }

    public ContractViolationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Check = "contract";
    }

    /// <summary>Which check failed: a short stable name, used to group failures.</summary>
    public string Check { get; }
}

/// <summary>Contract checks shared by the targets.</summary>
public static class Contract
{
    /// <summary>Fails with <paramref name="check"/> unless <paramref name="condition"/> holds.</summary>
    public static void That(bool condition, string check)
    {
        if (!condition)
        {
            throw new ContractViolationException(check, string.Empty);
        }
    }

    /// <summary>Fails with <paramref name="check"/> and a ready-made detail unless <paramref name="condition"/> holds.</summary>
    public static void That(bool condition, string check, string detail)
    {
        if (!condition)
        {
            throw new ContractViolationException(check, detail);
        }
    }

    /// <summary>
    /// Fails with <paramref name="check"/> and the detail unless <paramref name="condition"/> holds; the
    /// detail is formatted only on failure, so a passing check allocates nothing.
    /// </summary>
    public static void That(bool condition, string check, [InterpolatedStringHandlerArgument(nameof(condition))] ref DetailHandler detail)
    {
        if (!condition)
        {
            throw new ContractViolationException(check, detail.ToStringAndClear());
        }
    }

    /// <summary>The bytes this thread has allocated so far: take it before a step, pass it to <see cref="Allocated"/> after.</summary>
    public static long AllocatedSoFar() => GC.GetAllocatedBytesForCurrentThread();

    /// <summary>Fails when the thread allocated more than <paramref name="limit"/> bytes since <paramref name="before"/>.</summary>
    public static void Allocated(string step, long before, long limit)
    {
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > limit)
        {
            throw new ContractViolationException($"allocation over the limit in {step}", $"{allocated:N0} bytes allocated, the bound is {limit:N0}");
        }
    }

    /// <summary>The smallest power of two at or above <paramref name="n"/> (what a pool rents for n bytes).</summary>
    public static long PoolSize(long n) => n <= 16 ? 16 : (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)n);

    /// <summary>Formats a check's detail only when the check fails.</summary>
    [InterpolatedStringHandler]
    public ref struct DetailHandler
    {
        private DefaultInterpolatedStringHandler _inner;

        public DetailHandler(int literalLength, int formattedCount, bool condition, out bool shouldAppend)
        {
            shouldAppend = !condition;
            _inner = shouldAppend ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
        }

        public void AppendLiteral(string value) => _inner.AppendLiteral(value);

        public void AppendFormatted<T>(T value) => _inner.AppendFormatted(value);

        public void AppendFormatted<T>(T value, string? format) => _inner.AppendFormatted(value, format);

        public void AppendFormatted(string? value) => _inner.AppendFormatted(value);

        public string ToStringAndClear() => _inner.ToStringAndClear();
    }
}
