namespace Tailor.Format.Payloads;

/// <summary>Constants of the payload wire format (docs/format.md, "Payload").</summary>
public static class PayloadFormat
{
    /// <summary>The two magic bytes that start every payload body: ASCII "TP".</summary>
    public const ushort Magic = 0x5054; // 'T' 'P' read little-endian

    /// <summary>The payload format version this library writes.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The size of the fixed payload header in bytes.</summary>
    public const int HeaderLength = 20;

    /// <summary>The size of a Kafka message key: the org id as a 4-byte little-endian unsigned integer.</summary>
    public const int KeyLength = 4;

    /// <summary>Value encoding 0: each value's IEEE-754 bits XOR the previous value's bits in the same series entry, 8 bytes little-endian.</summary>
    public const byte ValueEncodingXor = 0;

    /// <summary>Writes the Kafka message key of an org.</summary>
    public static void WriteKey(Span<byte> destination, uint orgId) =>
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(destination, orgId);

    /// <summary>Reads the org id from a Kafka message key.</summary>
    /// <returns>False when the key is missing or not exactly <see cref="KeyLength"/> bytes.</returns>
    public static bool TryReadKey(ReadOnlySpan<byte> key, out uint orgId)
    {
        if (key.Length != KeyLength)
        {
            orgId = 0;
            return false;
        }

        orgId = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(key);
        return true;
    }
}

/// <summary>The outcome of decoding or validating a payload; anything but <see cref="Ok"/> is damage.</summary>
public enum PayloadStatus
{
    /// <summary>The payload is well formed.</summary>
    Ok = 0,
    /// <summary>The bytes are not a zstd frame.</summary>
    NotAFrame,
    /// <summary>The zstd frame is corrupt, truncated or followed by extra bytes.</summary>
    CorruptFrame,
    /// <summary>The frame declares or produces more than the configured maximum payload size.</summary>
    TooLarge,
    /// <summary>The body does not start with the payload magic.</summary>
    BadMagic,
    /// <summary>The body's format version is not one this library reads.</summary>
    UnsupportedVersion,
    /// <summary>The body is structurally invalid: a length, count or varint out of bounds, or trailing bytes.</summary>
    Malformed,
}

/// <summary>The fixed header of a payload.</summary>
/// <param name="Version">The payload format version.</param>
/// <param name="OrgId">The customer the payload belongs to.</param>
/// <param name="IntakeTime">When the payload was accepted, in nanoseconds since the Unix epoch (producer's clock); breaks ties between duplicates.</param>
/// <param name="SeriesCount">The number of series entries that follow.</param>
public readonly record struct PayloadHeader(byte Version, uint OrgId, long IntakeTime, int SeriesCount);

/// <summary>What a validated payload holds, computed without storing any point.</summary>
/// <param name="OrgId">The payload's org.</param>
/// <param name="IntakeTime">The payload's intake time (ns).</param>
/// <param name="SeriesCount">The number of series entries.</param>
/// <param name="PointCount">The number of points over all entries.</param>
/// <param name="MinTimestamp">The smallest timestamp (seconds), or <see cref="long.MaxValue"/> when there are no points.</param>
/// <param name="MaxTimestamp">The largest timestamp (seconds), or <see cref="long.MinValue"/> when there are no points.</param>
/// <param name="BodyLength">The decompressed body length in bytes.</param>
public readonly record struct PayloadSummary(uint OrgId, long IntakeTime, int SeriesCount, long PointCount, long MinTimestamp, long MaxTimestamp, int BodyLength);
