using Tailor.Format.Zstd;

namespace Tailor.Format.Payloads;

/// <summary>
/// Decompresses payload frames into one reused buffer and hands out readers over the body.
/// </summary>
/// <remarks>
/// Not thread-safe: one decoder per thread. A reader returned by <see cref="TryDecode"/> is valid
/// until the next call on the same decoder. The buffer grows to the largest body seen (never past
/// <see cref="MaxPayloadBytes"/>) and is then reused, so decoding allocates nothing in steady state.
/// </remarks>
public sealed class PayloadDecoder : IDisposable
{
    private readonly ZstdFrameDecompressor _decompressor = new();
    private byte[] _buffer;
    private int _lastLength;

    /// <summary>Creates a decoder.</summary>
    /// <param name="maxPayloadBytes">The largest decompressed body accepted; larger is damage. Default 16 MiB.</param>
    public PayloadDecoder(int maxPayloadBytes = FormatLimits.DefaultMaxRecordBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPayloadBytes, PayloadFormat.HeaderLength);
        MaxPayloadBytes = maxPayloadBytes;
        _buffer = new byte[Math.Min(64 * 1024, maxPayloadBytes)];
    }

    /// <summary>The body of the last payload decoded (valid until the next call).</summary>
    public ReadOnlySpan<byte> LastBody => _buffer.AsSpan(0, _lastLength);

    /// <summary>The largest decompressed body this decoder accepts.</summary>
    public int MaxPayloadBytes { get; }

    /// <summary>Decompresses one frame and checks the payload header.</summary>
    /// <param name="frame">Exactly one zstd frame.</param>
    /// <param name="reader">A reader over the body, valid until the next call.</param>
    /// <returns><see cref="PayloadStatus.Ok"/>, or the kind of damage.</returns>
    public PayloadStatus TryDecode(ReadOnlySpan<byte> frame, out PayloadReader reader)
    {
        reader = default;
        var status = Decompress(frame, out var length);
        _lastLength = length;
        return status != PayloadStatus.Ok ? status : PayloadReader.TryCreate(_buffer.AsSpan(0, length), out reader);
    }

    /// <summary>Decompresses one frame and validates the whole payload, returning its summary.</summary>
    /// <param name="frame">Exactly one zstd frame.</param>
    /// <param name="summary">Counts and time range of the payload when it is well formed.</param>
    /// <returns><see cref="PayloadStatus.Ok"/>, or the kind of damage.</returns>
    public PayloadStatus TryValidate(ReadOnlySpan<byte> frame, out PayloadSummary summary)
    {
        summary = default;
        var status = TryDecode(frame, out var reader);
        return status != PayloadStatus.Ok ? status : reader.Validate(out summary);
    }

    /// <summary>Frees the native decompression context.</summary>
    public void Dispose() => _decompressor.Dispose();

    private PayloadStatus Decompress(ReadOnlySpan<byte> frame, out int length)
    {
        length = 0;
        var header = ZstdFrameDecompressor.TryGetContentSize(frame, out var declared);
        if (header == ZstdFrameStatus.NotAFrame)
        {
            return PayloadStatus.NotAFrame;
        }

        if (header != ZstdFrameStatus.Ok)
        {
            return PayloadStatus.CorruptFrame;
        }

        if (declared > MaxPayloadBytes)
        {
            return PayloadStatus.TooLarge;
        }

        // Frames that declare their size get a buffer of that size; others may take up to the maximum.
        var needed = declared >= 0 ? (int)declared : MaxPayloadBytes;
        if (_buffer.Length < needed)
        {
            _buffer = new byte[Math.Min(MaxPayloadBytes, Math.Max(needed, _buffer.Length * 2))];
        }

        var status = _decompressor.Decompress(frame, _buffer, out length);
        return status switch
        {
            ZstdFrameStatus.Ok => PayloadStatus.Ok,
            ZstdFrameStatus.TooLarge => PayloadStatus.TooLarge,
            ZstdFrameStatus.NotAFrame => PayloadStatus.NotAFrame,
            _ => PayloadStatus.CorruptFrame,
        };
    }
}
