namespace Tailor.Fuzz.Tests.Harness;

/// <summary>
/// A small, fast, seeded random source (SplitMix64) whose sequence is fixed forever, so a case seed
/// printed today rebuilds the same input on any machine and any .NET version.
/// </summary>
public sealed class FuzzRandom
{
    private ulong _state;

    public FuzzRandom(ulong seed)
    {
        _state = seed;
    }

    /// <summary>Mixes values into one well-spread 64-bit seed.</summary>
    public static ulong Mix(ulong a, ulong b)
    {
        var z = a ^ (b * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A stable 64-bit hash of a name (FNV-1a), for per-target seeds.</summary>
    public static ulong HashName(string name)
    {
        var h = 0xCBF29CE484222325UL;
        foreach (var c in name)
        {
            h = (h ^ c) * 0x100000001B3UL;
        }

        return h;
    }

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public long NextInt64() => unchecked((long)NextUInt64());

    public uint NextUInt32() => (uint)(NextUInt64() >> 32);

    /// <summary>0 … <paramref name="maxExclusive"/> − 1 (0 when the bound is 0 or less).</summary>
    public int Next(int maxExclusive) => maxExclusive <= 0 ? 0 : (int)((NextUInt64() >> 33) % (ulong)maxExclusive);

    /// <summary><paramref name="min"/> … <paramref name="maxExclusive"/> − 1.</summary>
    public int Next(int min, int maxExclusive) => maxExclusive <= min ? min : min + Next(maxExclusive - min);

    /// <summary>True with probability 1/<paramref name="n"/>.</summary>
    public bool OneIn(int n) => Next(n) == 0;

    public bool NextBool() => (NextUInt64() & 1) != 0;

    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Small numbers often, large ones sometimes: 1 + a geometric count, capped.</summary>
    public int NextCount(int max)
    {
        var n = 1;
        while (n < max && Next(3) == 0)
        {
            n++;
        }

        return n;
    }

    /// <summary>A length skewed towards small values (0 … <paramref name="max"/>).</summary>
    public int NextLength(int max) => Next(4) switch
    {
        0 => Next(Math.Min(max, 16) + 1),
        1 => Next(Math.Min(max, 256) + 1),
        2 => Next(Math.Min(max, 4096) + 1),
        _ => Next(max + 1),
    };

    public void NextBytes(Span<byte> destination)
    {
        var i = 0;
        while (i + 8 <= destination.Length)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(destination[i..], NextUInt64());
            i += 8;
        }

        var last = NextUInt64();
        for (; i < destination.Length; i++, last >>= 8)
        {
            destination[i] = (byte)last;
        }
    }

    public byte[] NextBytes(int length)
    {
        var bytes = new byte[length];
        NextBytes(bytes);
        return bytes;
    }

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];
}
