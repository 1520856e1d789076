namespace Tailor.Format.Workload;

/// <summary>
/// SplitMix64 over a caller-held state word, plus the few distributions the workload needs. Only
/// additions, multiplications, divisions and square roots are used (all correctly rounded in
/// IEEE 754), never <c>Math.Exp</c>, <c>Math.Log</c> or <c>Math.Sin</c>, whose last bit may differ
/// between platforms: the same seed gives the same points everywhere.
/// </summary>
internal static class WorkloadRandom
{
    private const double Sqrt3 = 1.7320508075688772;

    /// <summary>Advances the state and returns 64 random bits.</summary>
    public static ulong Next(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Hashes two words into a well-mixed seed (a stateless SplitMix64 step).</summary>
    public static ulong Mix(ulong a, ulong b)
    {
        ulong state = a ^ (b * 0xD6E8FEB86659FD93UL);
        return Next(ref state);
    }

    /// <summary>A uniform double in [0, 1).</summary>
    public static double NextDouble(ref ulong state) => (Next(ref state) >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform double in [min, max).</summary>
    public static double NextDouble(ref ulong state, double min, double max) => min + ((max - min) * NextDouble(ref state));

    /// <summary>A uniform integer in [0, maxExclusive).</summary>
    public static int NextInt(ref ulong state, int maxExclusive) => (int)(((Next(ref state) >> 32) * (ulong)maxExclusive) >> 32);

    /// <summary>A uniform integer in [min, max].</summary>
    public static int NextInt(ref ulong state, int min, int max) => min + NextInt(ref state, max - min + 1);

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public static bool Chance(ref ulong state, double p) => NextDouble(ref state) < p;

    /// <summary>
    /// An approximately standard normal variate: the Irwin–Hall sum of four 16-bit uniforms scaled to
    /// unit variance (tails end at ±3.46; metrics noise needs no more).
    /// </summary>
    public static double NextNormal(ref ulong state)
    {
        ulong bits = Next(ref state);
        double sum = (double)(bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) + ((bits >> 32) & 0xFFFF) + (bits >> 48);
        // Each 16-bit part is uniform on [0, 65535]; the sum has mean 2 * 65535 and variance 4/12 * 65536^2.
        return (sum - (2 * 65535.0)) * (Sqrt3 / 65536.0);
    }

    /// <summary>A log-uniform-like draw: a uniform mantissa in [1, 10) times an exact power of ten 10^k, k in [minExp, maxExp].</summary>
    public static double NextDecades(ref ulong state, int minExp, int maxExp)
    {
        double mantissa = NextDouble(ref state, 1, 10);
        int k = NextInt(ref state, minExp, maxExp);
        return k >= 0 ? mantissa * Pow10[k] : mantissa / Pow10[-k];
    }

    /// <summary>Rounds to <paramref name="decimals"/> decimals the way agents do: round(x * 10^d) / 10^d.</summary>
    public static double RoundDecimals(double x, int decimals) => Math.Round(x * Pow10[decimals]) / Pow10[decimals];

    /// <summary>A smooth periodic wave in [-1, 1] for phase p in [0, 1): the parabolic approximation of sin(2πp).</summary>
    public static double Wave(double p)
    {
        double x = (2 * p) - 1; // [-1, 1)
        double y = 4 * x * (1 - Math.Abs(x)); // ≈ sin(πx), which is -sin(2πp)
        return -y;
    }

    /// <summary>Exact powers of ten 10^0 .. 10^15.</summary>
    private static ReadOnlySpan<double> Pow10 =>
    [
        1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
}
