using System.Buffers.Binary;

namespace Tailor.Fuzz.Tests.Harness;

/// <summary>The encoding of a known field of a seed input, so a mutation can hit it as a whole.</summary>
public enum FieldKind : byte
{
    U8,
    U16,
    U32,
    U64,
    VarInt,
}

/// <summary>A known field of a seed input: its offset and encoding.</summary>
public readonly record struct FieldRef(int Offset, FieldKind Kind);

/// <summary>A known structural unit of a seed input (a record, a block, an index page): a range of bytes.</summary>
public readonly record struct UnitRef(int Offset, int Length);

/// <summary>What a mutator knows about one seed input besides its bytes.</summary>
public sealed class SeedInput
{
    public SeedInput(byte[] bytes, IReadOnlyList<FieldRef>? fields = null, IReadOnlyList<UnitRef>? units = null)
    {
        Bytes = bytes;
        Fields = fields ?? [];
        Units = units ?? [];
    }

    public byte[] Bytes { get; }

    public IReadOnlyList<FieldRef> Fields { get; }

    public IReadOnlyList<UnitRef> Units { get; }
}

/// <summary>
/// Byte-level mutations of binary inputs: bit flips, byte sets, interesting integers over known or
/// aligned fields, arithmetic, truncation, extension with garbage, insertion, chunk duplication,
/// deletion and swapping, dictionary tokens, and splicing with a second input.
/// </summary>
public static class ByteMutator
{
    // Flips, sets, integers, arithmetic, copies over; tokens are planted over the bytes (below).
    private static readonly int[] InPlaceOperations = [0, 1, 2, 3, 4, 5, 11, 13];

    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x10, 0x20, 0x40, 0xFE, 0x81];

    private static readonly ulong[] InterestingValues =
    [
        0, 1, 2, 3, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
        20, 24, 28, 32, 36, 56, 60, 120, 128, 4096, 65535, 65536, 65537,
        (1 << 20) - 1, 1 << 20, (1 << 20) + 1, (1 << 24) - 1, 1 << 24, (1 << 24) + 1, (1 << 26) + 1, 1 << 30,
        0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF, 0x100000000, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000,
        0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFE, 0x7FFFFFFFFFFFFFFE,
    ];

    /// <summary>Applies 1 to <paramref name="maxMutations"/> mutations to a copy of <paramref name="seed"/>.</summary>
    /// <param name="random">The case's random source.</param>
    /// <param name="seed">The input to start from.</param>
    /// <param name="tokens">Byte strings of the format (magics, markers) to plant.</param>
    /// <param name="splice">Another input to splice with, or null.</param>
    /// <param name="log">Receives the names of the mutations applied.</param>
    /// <param name="maxMutations">The most mutations stacked.</param>
    /// <param name="maxLength">Inputs are cut back to this length.</param>
    /// <param name="inPlace">Only mutations that keep every byte where it is (flips, sets, integers, copies over,
    /// tokens over): formats located from their end (a trailer) keep their structure and fail deeper.</param>
    public static byte[] Mutate(FuzzRandom random, SeedInput seed, IReadOnlyList<byte[]> tokens, byte[]? splice, List<string> log,
        int maxMutations = 6, int maxLength = 1 << 20, bool inPlace = false)
    {
        var data = new List<byte>(seed.Bytes);
        var count = random.NextCount(maxMutations);
        for (var m = 0; m < count; m++)
        {
            var op = inPlace ? random.Pick(InPlaceOperations) : random.Next(16);
            switch (op)
            {
                case 0:
                case 1:
                    FlipBits(random, data, log);
                    break;
                case 2:
                    SetBytes(random, data, log);
                    break;
                case 3:
                case 4:
                    WriteInteresting(random, data, seed, log);
                    break;
                case 5:
                    AddArithmetic(random, data, seed, log);
                    break;
                case 6:
                    Truncate(random, data, log);
                    break;
                case 7:
                    Extend(random, data, tokens, log);
                    break;
                case 8:
                    InsertRandom(random, data, log);
                    break;
                case 9:
                    DeleteChunk(random, data, seed, log);
                    break;
                case 10:
                    DuplicateChunk(random, data, seed, log);
                    break;
                case 11:
                    OverwriteChunk(random, data, log);
                    break;
                case 12:
                    SwapUnits(random, data, seed, log);
                    break;
                case 13:
                case 14:
                    PlantToken(random, data, tokens, seed, log, overwrite: inPlace);
                    break;
                default:
                    if (splice is not null)
                    {
                        Splice(random, data, splice, log);
                    }
                    else
                    {
                        FlipBits(random, data, log);
                    }

                    break;
            }
        }

        if (data.Count > maxLength)
        {
            data.RemoveRange(maxLength, data.Count - maxLength);
        }

        return [.. data];
    }

    /// <summary>Writes <paramref name="value"/> as an unsigned LEB128 varint.</summary>
    public static byte[] EncodeVarInt(ulong value)
    {
        var bytes = new List<byte>(10);
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static void FlipBits(FuzzRandom random, List<byte> data, List<string> log)
    {
        if (data.Count == 0)
        {
            return;
        }

        var flips = random.NextCount(8);
        for (var i = 0; i < flips; i++)
        {
            var at = random.Next(data.Count);
            data[at] ^= (byte)(1 << random.Next(8));
        }

        log.Add($"flip{flips}");
    }

    private static void SetBytes(FuzzRandom random, List<byte> data, List<string> log)
    {
        if (data.Count == 0)
        {
            return;
        }

        var n = random.NextCount(8);
        var at = random.Next(data.Count);
        var mode = random.Next(3);
        for (var i = 0; i < n && at + i < data.Count; i++)
        {
            data[at + i] = mode switch
            {
                0 => 0x00,
                1 => 0xFF,
                _ => random.OneIn(2) ? random.Pick(InterestingBytes) : (byte)random.Next(256),
            };
        }

        log.Add($"set{n}@{at}");
    }

    private static ulong InterestingValue(FuzzRandom random, int length)
    {
        var v = random.Next(5) switch
        {
            0 => (ulong)length,
            1 => (ulong)Math.Max(0, length + random.Next(-64, 65)),
            2 => random.NextUInt64() >> random.Next(64),
            _ => random.Pick(InterestingValues),
        };
        return random.OneIn(8) ? unchecked(0 - v) : v;
    }

    private static void WriteInteresting(FuzzRandom random, List<byte> data, SeedInput seed, List<string> log)
    {
        FieldRef field;
        if (seed.Fields.Count > 0 && !random.OneIn(4))
        {
            field = random.Pick(seed.Fields);
        }
        else
        {
            var kind = (FieldKind)random.Next(4);
            var width = Width(kind);
            var slots = Math.Max(1, data.Count / width);
            field = new FieldRef(random.Next(slots) * width, kind);
        }

        var value = InterestingValue(random, data.Count);
        if (field.Kind == FieldKind.VarInt)
        {
            ReplaceVarInt(random, data, field.Offset, value);
            log.Add($"varint{value}@{field.Offset}");
            return;
        }

        WriteInt(data, field.Offset, Width(field.Kind), value);
        log.Add($"int{Width(field.Kind) * 8}={value}@{field.Offset}");
    }

    private static void AddArithmetic(FuzzRandom random, List<byte> data, SeedInput seed, List<string> log)
    {
        var field = seed.Fields.Count > 0 && random.NextBool()
            ? seed.Fields[random.Next(seed.Fields.Count)]
            : new FieldRef(random.Next(Math.Max(1, data.Count)), (FieldKind)random.Next(4));
        if (field.Kind == FieldKind.VarInt)
        {
            field = field with { Kind = FieldKind.U8 };
        }

        var width = Width(field.Kind);
        if (field.Offset + width > data.Count)
        {
            return;
        }

        ulong current = 0;
        for (var i = width - 1; i >= 0; i--)
        {
            current = (current << 8) | data[field.Offset + i];
        }

        var delta = (ulong)random.Next(1, 36);
        WriteInt(data, field.Offset, width, random.NextBool() ? current + delta : current - delta);
        log.Add($"arith{width * 8}@{field.Offset}");
    }

    private static void Truncate(FuzzRandom random, List<byte> data, List<string> log)
    {
        if (data.Count == 0)
        {
            return;
        }

        var keep = random.Next(3) switch
        {
            0 => data.Count - random.Next(1, Math.Min(data.Count, 64) + 1),
            1 => random.Next(Math.Min(data.Count, 256)),
            _ => random.Next(data.Count),
        };
        data.RemoveRange(keep, data.Count - keep);
        log.Add($"truncate{keep}");
    }

    private static void Extend(FuzzRandom random, List<byte> data, IReadOnlyList<byte[]> tokens, List<string> log)
    {
        var n = random.NextLength(4096);
        switch (random.Next(4))
        {
            case 0:
                data.AddRange(new byte[n]);
                break;
            case 1:
                data.AddRange(random.NextBytes(n));
                break;
            case 2 when data.Count > 0:
                var from = random.Next(data.Count);
                data.AddRange(data.GetRange(from, Math.Min(n, data.Count - from)));
                break;
            default:
                if (tokens.Count > 0)
                {
                    data.AddRange(random.Pick(tokens));
                }

                data.AddRange(random.NextBytes(random.Next(64)));
                break;
        }

        log.Add($"extend{n}");
    }

    private static void InsertRandom(FuzzRandom random, List<byte> data, List<string> log)
    {
        var at = random.Next(data.Count + 1);
        var n = random.NextCount(16);
        data.InsertRange(at, random.NextBytes(n));
        log.Add($"insert{n}@{at}");
    }

    private static UnitRef PickRange(FuzzRandom random, List<byte> data, SeedInput seed)
    {
        if (seed.Units.Count > 0 && random.NextBool())
        {
            var unit = random.Pick(seed.Units);
            if (unit.Offset < data.Count)
            {
                return new UnitRef(unit.Offset, Math.Min(unit.Length, data.Count - unit.Offset));
            }
        }

        var start = random.Next(data.Count);
        return new UnitRef(start, Math.Min(random.NextLength(1024), data.Count - start));
    }

    private static void DeleteChunk(FuzzRandom random, List<byte> data, SeedInput seed, List<string> log)
    {
        if (data.Count == 0)
        {
            return;
        }

        var range = PickRange(random, data, seed);
        data.RemoveRange(range.Offset, range.Length);
        log.Add($"delete{range.Length}@{range.Offset}");
    }

    private static void DuplicateChunk(FuzzRandom random, List<byte> data, SeedInput seed, List<string> log)
    {
        if (data.Count == 0)
        {
            return;
        }

        var range = PickRange(random, data, seed);
        var chunk = data.GetRange(range.Offset, range.Length);
        var at = random.NextBool() ? range.Offset + range.Length : random.Next(data.Count + 1);
        data.InsertRange(Math.Min(at, data.Count), chunk);
        log.Add($"dup{range.Length}@{range.Offset}->{at}");
    }

    private static void OverwriteChunk(FuzzRandom random, List<byte> data, List<string> log)
    {
        if (data.Count < 2)
        {
            return;
        }

        var from = random.Next(data.Count);
        var to = random.Next(data.Count);
        var n = Math.Min(random.NextLength(512), Math.Min(data.Count - from, data.Count - to));
        var chunk = data.GetRange(from, n);
        for (var i = 0; i < n; i++)
        {
            data[to + i] = chunk[i];
        }

        log.Add($"copy{n}@{from}->{to}");
    }

    private static void SwapUnits(FuzzRandom random, List<byte> data, SeedInput seed, List<string> log)
    {
        if (seed.Units.Count < 2)
        {
            DeleteChunk(random, data, seed, log);
            return;
        }

        var a = random.Pick(seed.Units);
        var b = random.Pick(seed.Units);
        if (a.Offset > b.Offset)
        {
            (a, b) = (b, a);
        }

        if (a.Offset + a.Length > b.Offset || b.Offset + b.Length > data.Count)
        {
            return;
        }

        var first = data.GetRange(a.Offset, a.Length);
        var second = data.GetRange(b.Offset, b.Length);
        data.RemoveRange(b.Offset, b.Length);
        data.InsertRange(b.Offset, first);
        data.RemoveRange(a.Offset, a.Length);
        data.InsertRange(a.Offset, second);
        log.Add($"swap@{a.Offset},{b.Offset}");
    }

    private static void PlantToken(FuzzRandom random, List<byte> data, IReadOnlyList<byte[]> tokens, SeedInput seed, List<string> log, bool overwrite)
    {
        if (tokens.Count == 0)
        {
            SetBytes(random, data, log);
            return;
        }

        var token = random.Pick(tokens);
        var at = seed.Units.Count > 0 && random.NextBool() ? random.Pick(seed.Units).Offset : random.Next(data.Count + 1);
        at = Math.Min(at, data.Count);
        if (overwrite)
        {
            at = Math.Max(0, Math.Min(at, data.Count - token.Length));
            for (var i = 0; i < token.Length && at + i < data.Count; i++)
            {
                data[at + i] = token[i];
            }

            log.Add($"token={token.Length}@{at}");
        }
        else if (random.NextBool())
        {
            data.InsertRange(at, token);
            log.Add($"token+{token.Length}@{at}");
        }
        else
        {
            for (var i = 0; i < token.Length; i++)
            {
                if (at + i < data.Count)
                {
                    data[at + i] = token[i];
                }
                else
                {
                    data.Add(token[i]);
                }
            }

            log.Add($"token={token.Length}@{at}");
        }
    }

    private static void Splice(FuzzRandom random, List<byte> data, byte[] other, List<string> log)
    {
        var cut = random.Next(data.Count + 1);
        var from = random.Next(other.Length + 1);
        data.RemoveRange(cut, data.Count - cut);
        data.AddRange(other.AsSpan(from).ToArray());
        log.Add($"splice{cut}+{from}");
    }

    private static int Width(FieldKind kind) => kind switch
    {
        FieldKind.U8 => 1,
        FieldKind.U16 => 2,
        FieldKind.U32 => 4,
        _ => 8,
    };

    private static void WriteInt(List<byte> data, int offset, int width, ulong value)
    {
        for (var i = 0; i < width; i++, value >>= 8)
        {
            if (offset + i < data.Count)
            {
                data[offset + i] = (byte)value;
            }
        }
    }

    private static void ReplaceVarInt(FuzzRandom random, List<byte> data, int offset, ulong value)
    {
        if (offset >= data.Count)
        {
            return;
        }

        var old = 0;
        while (offset + old < data.Count && old < 11 && (data[offset + old] & 0x80) != 0)
        {
            old++;
        }

        old = Math.Min(old + 1, data.Count - offset);
        byte[] encoded = random.Next(8) switch
        {
            // Overlong and overflowing encodings, which a reader must reject.
            0 => [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02],
            1 => [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
            2 => [0x80],
            _ => EncodeVarInt(value),
        };
        data.RemoveRange(offset, old);
        data.InsertRange(offset, encoded);
    }

    /// <summary>Reads a little-endian integer of <paramref name="width"/> bytes (helpers for fix-ups).</summary>
    public static ulong ReadInt(ReadOnlySpan<byte> data, int offset, int width) => width switch
    {
        2 => BinaryPrimitives.ReadUInt16LittleEndian(data[offset..]),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]),
        8 => BinaryPrimitives.ReadUInt64LittleEndian(data[offset..]),
        _ => data[offset],
    };
}
