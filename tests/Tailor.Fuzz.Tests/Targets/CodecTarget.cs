using System.Buffers;
using System.Runtime.InteropServices;
using Tailor.Format.Codecs;
using Tailor.Format.Workload;
using Tailor.Fuzz.Tests.Harness;
using Tailor.Testing;

namespace Tailor.Fuzz.Tests.Targets;

/// <summary>
/// Series blocks through the codecs' <c>ReadPointCount</c> and <c>Decode</c>. An input is one selector byte
/// (bit 0: gorilla or tailor; bits 1–2: destination room exact, one short, 65,536 points, or none; bit 3: tailor2 rather than tailor) and the block.
/// </summary>
/// <remarks>
/// Contract (<see cref="ISeriesCodec"/>): never throws; never reads outside the block (it ends against a
/// guard page); returns Done with the count <c>ReadPointCount</c> gives and a consumed length inside the
/// block, DestinationTooSmall only when that count exceeds the room, else InvalidData, with zero points and
/// bytes unless Done; the block's consumed prefix decodes alone to the same points; decoded points
/// re-encode and decode bit for bit; decoding allocates at most the codec's bound for the room given.
/// </remarks>
public sealed class CodecTarget : FuzzTarget
{
    private const int Cap = 1 << 16;

    private static readonly Lazy<IReadOnlyList<SeedInput>> Blocks = new(BuildBlocks);

    private readonly GuardedBuffer? _guard = GuardedBuffer.TryCreate((1 << 20) + 4096);
    private readonly long[] _timestamps = new long[Cap];
    private readonly double[] _values = new double[Cap];
    private readonly long[] _again = new long[Cap];
    private readonly double[] _againValues = new double[Cap];
    private readonly byte[] _encoded = new byte[SeriesCodecs.Gorilla.GetMaxEncodedLength(Cap) + SeriesCodecs.Tailor.GetMaxEncodedLength(Cap)];

    public override string Name => "codec";

    public override int DefaultCases => 16_000;

    public override FuzzInput Generate(FuzzRandom random)
    {
        var blocks = Blocks.Value;
        var seed = random.Pick(blocks);
        var roll = random.Next(100);
        byte[] block;
        string how;
        if (roll < 4)
        {
            return new FuzzInput(seed.Bytes, "valid block", Pristine: true);
        }

        var log = new List<string>();
        if (roll < 74)
        {
            var mutated = ByteMutator.Mutate(random, new SeedInput(seed.Bytes[1..], Shift(seed.Fields), null), Tokens, random.Pick(blocks).Bytes[1..], log);
            block = [(byte)(seed.Bytes[0] | (random.Next(4) << 1)), .. mutated];
            how = "block mutated: " + string.Join(", ", log);
        }
        else if (roll < 90)
        {
            block = WrapMutatedBody(random, blocks, log);
            how = "tailor body mutated, then zstd: " + string.Join(", ", log);
        }
        else if (roll < 95)
        {
            block = random.NextBytes(1 + random.NextLength(2048));
            how = "random bytes";
        }
        else
        {
            block = random.NextBytes(1 + random.Next(10));
            how = "a few random bytes";
        }

        return new FuzzInput(block, how);
    }

    public override void Run(FuzzInput input)
    {
        if (input.Bytes.Length == 0)
        {
            return;
        }

        var selector = input.Bytes[0];
        ISeriesCodec codec = (selector & 1) == 0 ? SeriesCodecs.Gorilla : (selector & 8) == 0 ? SeriesCodecs.Tailor : SeriesCodecs.Tailor2;
        var raw = input.Bytes.AsSpan(1);
        var block = _guard is null ? raw : _guard.Place(raw);

        var before = Contract.AllocatedSoFar();
        var countStatus = codec.ReadPointCount(block, out var count);
        Contract.That(countStatus is OperationStatus.Done or OperationStatus.InvalidData, "ReadPointCount returned another status", $"{countStatus}");
        Contract.That(countStatus == OperationStatus.Done ? count is >= 0 and <= SeriesCodecs.MaxPointCount : count == 0, "ReadPointCount's count is out of range", $"{count}");
        var exact = Math.Min(count, Cap);
        var room = ((selector >> 1) & 3) switch
        {
            0 => exact,
            1 => Math.Max(0, exact - 1),
            2 => Cap,
            _ => 0,
        };

        var status = codec.Decode(block, _timestamps.AsSpan(0, room), _values.AsSpan(0, room), out var points, out var consumed);
        // The codec's own bound for the room given: a zstd body of at most GetMaxEncodedLength(room), in scratch kept per thread.
        Contract.Allocated($"{codec.Name} Decode", before, (16L * room) + (64 * 1024));
        Contract.That(status is OperationStatus.Done or OperationStatus.DestinationTooSmall or OperationStatus.InvalidData, "Decode returned another status", $"{status}");
        Contract.That(status == OperationStatus.Done || (points == 0 && consumed == 0), "a failed decode reports points or bytes", $"{status}: {points} points, {consumed} bytes");
        Contract.That(!input.Pristine || status == OperationStatus.Done, "valid block rejected", $"{status}");
        if (countStatus == OperationStatus.InvalidData)
        {
            Contract.That(status == OperationStatus.InvalidData, "Decode accepts a block whose point count ReadPointCount rejects", $"{status}");
        }

        if (status == OperationStatus.DestinationTooSmall)
        {
            Contract.That(countStatus == OperationStatus.Done && count > room, "DestinationTooSmall with room for the block's points", $"{count} points, room {room}");
            Count("destination too small");
            return;
        }

        if (status != OperationStatus.Done)
        {
            Count($"{codec.Name} invalid");
            return;
        }

        Contract.That(countStatus == OperationStatus.Done && points == count && points <= room, "Decode's point count differs from ReadPointCount's", $"{points} against {count}");
        Contract.That(consumed > 0 && consumed <= block.Length, "consumed bytes outside the block", $"{consumed} of {block.Length}");

        // The block is self-delimiting: its consumed prefix alone decodes the same.
        var prefix = _guard is null ? raw[..consumed] : _guard.Place(raw[..consumed]);
        var again = codec.Decode(prefix, _again.AsSpan(0, points), _againValues.AsSpan(0, points), out var againPoints, out var againConsumed);
        Contract.That(again == OperationStatus.Done && againPoints == points && againConsumed == consumed
            && _again.AsSpan(0, points).SequenceEqual(_timestamps.AsSpan(0, points))
            && MemoryMarshal.Cast<double, long>(_againValues.AsSpan(0, points)).SequenceEqual(MemoryMarshal.Cast<double, long>(_values.AsSpan(0, points))),
            "the consumed prefix decodes differently", $"{again}, {againPoints} points, {againConsumed} bytes");

        // Whatever a block decodes to re-encodes and decodes bit for bit.
        before = Contract.AllocatedSoFar();
        var length = codec.Encode(_timestamps.AsSpan(0, points), _values.AsSpan(0, points), _encoded);
        // First use on a thread grows the scratch: seven long and two int columns plus a body buffer per point.
        Contract.Allocated($"{codec.Name} Encode", before, (96L * points) + (128 * 1024));
        var round = codec.Decode(_encoded.AsSpan(0, length), _again.AsSpan(0, points), _againValues.AsSpan(0, points), out var roundPoints, out var roundConsumed);
        Contract.That(round == OperationStatus.Done && roundPoints == points && roundConsumed == length
            && _again.AsSpan(0, points).SequenceEqual(_timestamps.AsSpan(0, points))
            && MemoryMarshal.Cast<double, long>(_againValues.AsSpan(0, points)).SequenceEqual(MemoryMarshal.Cast<double, long>(_values.AsSpan(0, points))),
            "decoded points do not round-trip", $"{round}, {roundPoints} of {points} points");
        Count($"{codec.Name} decoded");
    }

    protected override void Dispose(bool disposing)
    {
        _guard?.Dispose();
        base.Dispose(disposing);
    }

    private static IReadOnlyList<byte[]> Tokens { get; } =
    [
        [0x28, 0xB5, 0x2F, 0xFD], [0xFF, 0xFF, 0xFF, 0x07], [0x80, 0x80, 0x80, 0x08], [0x00], [0x01], [0x02], [0x04], [0x06], [0x40], [0xFF],
        [0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], [0x80, 0x00, 0x00, 0x00],
    ];

    private static List<FieldRef> Shift(IReadOnlyList<FieldRef> fields) => [.. fields.Select(f => f with { Offset = f.Offset - 1 }).Where(f => f.Offset >= 0)];

    /// <summary>A plain tailor block whose body is mutated, then compressed as the codec's zstd form, so the body parser sees the damage.</summary>
    private static byte[] WrapMutatedBody(FuzzRandom random, IReadOnlyList<SeedInput> blocks, List<string> log)
    {
        SeedInput plain;
        do
        {
            plain = random.Pick(blocks);
        }
        while ((plain.Bytes[0] & 1) == 0 || plain.Bytes[1] != 0);

        var p = 2;
        Tailor.Format.Encoding.VarInt.TryRead(plain.Bytes, ref p, out var count);
        var body = ByteMutator.Mutate(random, new SeedInput(plain.Bytes[p..]), Tokens, null, log, maxMutations: 3);
        if (random.OneIn(8))
        {
            count = random.OneIn(2) ? count + 1 : (ulong)random.Next(1 << 17);
            log.Add($"count {count}");
        }

        var frame = Zstd.Compress(body, level: 1);
        var declared = random.OneIn(8) ? (ulong)random.Next(body.Length * 2 + 1) : (ulong)body.Length;
        return [(byte)(plain.Bytes[0] | (random.Next(3) << 1)), 1, .. ByteMutator.EncodeVarInt(count), .. ByteMutator.EncodeVarInt(declared), .. ByteMutator.EncodeVarInt((ulong)frame.Length), .. frame];
    }

    private static List<SeedInput> BuildBlocks()
    {
        var random = new FuzzRandom(0xC0DEC);
        var series = new List<(long[] Ts, double[] Vs)>();
        var corpus = SeriesCorpus.Generate(SeriesMix.Default, 7, 48);
        for (var i = 0; i < corpus.SeriesCount; i++)
        {
            series.Add((corpus.GetTimestamps(i).ToArray(), corpus.GetValues(i).ToArray()));
        }

        for (var i = 0; i < 24; i++)
        {
            var n = random.Next(4) switch { 0 => random.Next(0, 3), 1 => random.Next(3, 40), _ => random.Next(40, 3000) };
            var ts = new long[n];
            var vs = new double[n];
            var t = random.OneIn(4) ? random.NextInt64() : 1_790_000_000;
            for (var k = 0; k < n; k++)
            {
                t = random.Next(6) switch { 0 => random.NextInt64(), 1 => t - random.Next(100), _ => t + random.Next(1, 1000) };
                ts[k] = t;
                vs[k] = random.Next(5) switch
                {
                    0 => BitConverter.Int64BitsToDouble(random.NextInt64()),
                    1 => Math.Round(random.NextDouble() * 1e6, random.Next(6)),
                    2 => double.NaN,
                    3 => random.Next(1_000_000) / 1000.0 / random.Next(1, 200), // a quotient of a decimal
                    _ => k,
                };
            }

            series.Add((ts, vs));
        }

        var blocks = new List<SeedInput>();
        foreach (var (ts, vs) in series)
        {
            foreach (var codec in new ISeriesCodec[]
            {
                SeriesCodecs.Gorilla, SeriesCodecs.Tailor, new TailorCodec(new TailorCodecOptions { UseZstd = false }), new TailorCodec(new TailorCodecOptions { ZstdMinSavings = 0, ZstdMinBodyLength = 0 }),
                SeriesCodecs.Tailor2, new TailorCodec(new TailorCodecOptions { UseZstd = true }, 2),
            })
            {
                var buffer = new byte[codec.GetMaxEncodedLength(ts.Length)];
                var length = codec.Encode(ts, vs, buffer);
                byte selector = codec is GorillaCodec ? (byte)0 : codec is TailorCodec { Version: 2 } ? (byte)9 : (byte)1;
                var fields = codec is GorillaCodec
                    ? new List<FieldRef> { new(1, FieldKind.VarInt), new(2, FieldKind.U64), new(10, FieldKind.U64) }
                    : [new(1, FieldKind.U8), new(2, FieldKind.VarInt), new(3, FieldKind.VarInt), new(4, FieldKind.U8), new(5, FieldKind.U8), new(6, FieldKind.VarInt)];
                blocks.Add(new SeedInput([selector, .. buffer.AsSpan(0, length)], fields));
            }
        }

        return blocks;
    }
}
