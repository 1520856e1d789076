using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CommunityToolkit.HighPerformance.Buffers;
using Tailor.Format.Encoding;
using Tailor.Format.Zstd;

namespace Tailor.Format.Payloads;

/// <summary>Options of a <see cref="PayloadWriter"/>.</summary>
public sealed class PayloadWriterOptions
{
    /// <summary>The zstd level of the payload frame. Default 3.</summary>
    public int CompressionLevel { get; set; } = ZstdFrameCompressor.DefaultLevel;

    /// <summary>The largest body the writer builds; adding past it throws. Default 16 MiB, the readers' default bound.</summary>
    public int MaxPayloadBytes { get; set; } = FormatLimits.DefaultMaxRecordBytes;
}

/// <summary>
/// Builds payloads: a header and series entries encoded into a reused body buffer, then compressed
/// into one standard zstd frame with a reused compression context.
/// </summary>
/// <remarks>
/// Usage: <see cref="Begin"/>, any number of <see cref="AddSeries"/>, then <see cref="Complete"/>
/// (or <see cref="WriteBody"/> for the uncompressed body). Not thread-safe. The writer owns a pooled
/// body buffer and a native compression context, both released by <see cref="Dispose"/>.
/// </remarks>
public sealed class PayloadWriter : IDisposable
{
    private readonly ArrayPoolBufferWriter<byte> _body = new(64 * 1024);
    private readonly ZstdFrameCompressor _compressor;
    private readonly int _maxPayloadBytes;
    private int _seriesCount;
    private bool _open;

    /// <summary>Creates a writer.</summary>
    /// <param name="options">Compression level and size bound; defaults when null.</param>
    public PayloadWriter(PayloadWriterOptions? options = null)
    {
        options ??= new PayloadWriterOptions();
        _compressor = new ZstdFrameCompressor(options.CompressionLevel);
        _maxPayloadBytes = options.MaxPayloadBytes;
    }

    /// <summary>The length of the body built so far.</summary>
    public int BodyLength => _body.WrittenCount;

    /// <summary>The number of series entries added since <see cref="Begin"/>.</summary>
    public int SeriesCount => _seriesCount;

    /// <summary>The uncompressed body built so far (header count patched), valid until the next call.</summary>
    public ReadOnlySpan<byte> Body => _body.WrittenSpan;

    /// <summary>Starts a new payload, discarding anything not completed.</summary>
    /// <param name="orgId">The org the payload belongs to.</param>
    /// <param name="intakeTime">The intake time in nanoseconds since the Unix epoch.</param>
    public void Begin(uint orgId, long intakeTime)
    {
        _body.Clear();
        var header = _body.GetSpan(PayloadFormat.HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(header, PayloadFormat.Magic);
        header[2] = PayloadFormat.CurrentVersion;
        header[3] = PayloadFormat.ValueEncodingXor;
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], orgId);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], intakeTime);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 0);
        _body.Advance(PayloadFormat.HeaderLength);
        _seriesCount = 0;
        _open = true;
    }

    /// <summary>Adds one series entry.</summary>
    /// <param name="metricId">The metric id.</param>
    /// <param name="contextKey">The context key.</param>
    /// <param name="metadata">The series metadata, at most 64 KiB.</param>
    /// <param name="timestamps">The points' timestamps in seconds, normally in time order (any order is kept as given).</param>
    /// <param name="values">The points' values, as many as timestamps.</param>
    /// <exception cref="ArgumentException">Lengths differ, metadata is too long, or the body would pass the size bound.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Begin"/> was not called.</exception>
    public void AddSeries(ulong metricId, ulong contextKey, ReadOnlySpan<byte> metadata, ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values)
    {
        if (!_open)
        {
            throw new InvalidOperationException("Call Begin before adding series.");
        }

        if (timestamps.Length != values.Length)
        {
            throw new ArgumentException($"{timestamps.Length} timestamps but {values.Length} values.", nameof(values));
        }

        if (metadata.Length > FormatLimits.MaxMetadataBytes)
        {
            throw new ArgumentException($"Metadata of {metadata.Length} bytes exceeds the {FormatLimits.MaxMetadataBytes}-byte limit.", nameof(metadata));
        }

        var n = timestamps.Length;
        var timestampBytes = 0;
        long previous = 0;
        long delta = 0;
        for (var i = 0; i < n; i++)
        {
            timestampBytes += VarInt.GetLength(TimestampCode(timestamps, i, ref previous, ref delta));
        }

        var entryLength = VarInt.GetLength(metricId) + 8 + VarInt.GetLength((ulong)metadata.Length) + metadata.Length
            + VarInt.GetLength((ulong)n) + VarInt.GetLength((ulong)timestampBytes) + timestampBytes + (8 * n);
        if ((long)_body.WrittenCount + entryLength > _maxPayloadBytes)
        {
            throw new ArgumentException($"The payload would exceed its {_maxPayloadBytes}-byte bound.", nameof(timestamps));
        }

        var span = _body.GetSpan(entryLength);
        var p = VarInt.Write(span, metricId);
        BinaryPrimitives.WriteUInt64LittleEndian(span[p..], contextKey);
        p += 8;
        p += VarInt.Write(span[p..], (ulong)metadata.Length);
        metadata.CopyTo(span[p..]);
        p += metadata.Length;
        p += VarInt.Write(span[p..], (ulong)n);
        p += VarInt.Write(span[p..], (ulong)timestampBytes);
        previous = 0;
        delta = 0;
        for (var i = 0; i < n; i++)
        {
            p += VarInt.Write(span[p..], TimestampCode(timestamps, i, ref previous, ref delta));
        }

        ulong previousBits = 0;
        var bits = MemoryMarshal.Cast<double, ulong>(values);
        for (var i = 0; i < n; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[p..], bits[i] ^ previousBits);
            previousBits = bits[i];
            p += 8;
        }

        _body.Advance(p);
        _seriesCount++;
        BinaryPrimitives.WriteUInt32LittleEndian(_body.DangerousGetArray().AsSpan(16), (uint)_seriesCount);
    }

    /// <summary>Copies the uncompressed body into <paramref name="destination"/> and ends the payload.</summary>
    /// <returns>The body length.</returns>
    public int WriteBody(IBufferWriter<byte> destination)
    {
        EnsureOpen();
        var body = _body.WrittenSpan;
        body.CopyTo(destination.GetSpan(body.Length));
        destination.Advance(body.Length);
        _open = false;
        return body.Length;
    }

    /// <summary>Compresses the body into one zstd frame written to <paramref name="destination"/> and ends the payload.</summary>
    /// <returns>The frame length.</returns>
    public int Complete(IBufferWriter<byte> destination)
    {
        EnsureOpen();
        var body = _body.WrittenSpan;
        var span = destination.GetSpan(ZstdFrameCompressor.GetMaxFrameLength(body.Length));
        var written = _compressor.Compress(body, span);
        destination.Advance(written);
        _open = false;
        return written;
    }

    /// <summary>Returns the pooled buffer and frees the compression context.</summary>
    public void Dispose()
    {
        _body.Dispose();
        _compressor.Dispose();
    }

    private static ulong TimestampCode(ReadOnlySpan<long> timestamps, int i, ref long previous, ref long delta)
    {
        if (i == 0)
        {
            previous = timestamps[0];
            return VarInt.ZigZag(previous);
        }

        var d = unchecked(timestamps[i] - previous);
        var code = VarInt.ZigZag(unchecked(d - delta));
        delta = d;
        previous = timestamps[i];
        return code;
    }

    private void EnsureOpen()
    {
        if (!_open)
        {
            throw new InvalidOperationException("No payload is open: call Begin first.");
        }
    }
}
