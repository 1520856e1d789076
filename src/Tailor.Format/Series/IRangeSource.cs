namespace Tailor.Format.Series;

/// <summary>
/// Random access to the bytes of one immutable file by ranged reads: a local file, a buffer, or an object
/// in a store (an HTTP range GET). <see cref="SFileReader"/> looks series up through it.
/// </summary>
/// <remarks>Each <see cref="ReadAsync"/> call is one range read; implementations should not split it into
/// several requests. Implementations used by several readers at once must be thread-safe.</remarks>
public interface IRangeSource
{
    /// <summary>The file's length in bytes (known up front: from a listing, a manifest or the file system).</summary>
    long Length { get; }

    /// <summary>Reads the bytes at [<paramref name="offset"/>, <paramref name="offset"/> + destination length).</summary>
    /// <param name="offset">The first byte to read.</param>
    /// <param name="destination">Where the bytes go; its length is how many are requested.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>How many bytes were read: the destination's length, or fewer only when the file ends first.</returns>
    ValueTask<int> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default);
}

/// <summary>Ready-made <see cref="IRangeSource"/>s: a buffer, a seekable stream, a delegate.</summary>
public static class RangeSource
{
    /// <summary>A source over bytes in memory.</summary>
    /// <param name="file">The file's bytes (kept, not copied).</param>
    /// <returns>The source.</returns>
    public static IRangeSource FromMemory(ReadOnlyMemory<byte> file) => new MemorySource(file);

    /// <summary>A source over a readable, seekable stream (a <see cref="FileStream"/>, say); each read seeks, then reads.</summary>
    /// <param name="stream">The stream; the caller keeps ownership. Reads through one source are serialized.</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentException">The stream cannot read or seek.</exception>
    public static IRangeSource FromStream(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanSeek)
        {
            throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        }

        return new StreamSource(stream);
    }

    /// <summary>A source that calls <paramref name="read"/> for every range: the adapter for an object store's ranged get.</summary>
    /// <param name="length">The file's length.</param>
    /// <param name="read">Reads (offset, destination) and returns the bytes read, as <see cref="IRangeSource.ReadAsync"/>.</param>
    /// <returns>The source.</returns>
    public static IRangeSource FromDelegate(long length, Func<long, Memory<byte>, CancellationToken, ValueTask<int>> read)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentNullException.ThrowIfNull(read);
        return new DelegateSource(length, read);
    }

    /// <summary>Reads exactly <paramref name="destination"/>'s length at <paramref name="offset"/>: one range read.</summary>
    internal static async ValueTask ReadExactlyAsync(this IRangeSource source, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var read = await source.ReadAsync(offset, destination, cancellationToken).ConfigureAwait(false);
        if (read != destination.Length)
        {
            SFileFormatException.Throw($"The S-file ended early: {read} of {destination.Length} bytes could be read", offset + Math.Max(0, read));
        }
    }

    private sealed class MemorySource(ReadOnlyMemory<byte> file) : IRangeSource
    {
        public long Length => file.Length;

        public ValueTask<int> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(offset);
            if (offset >= file.Length)
            {
                return new ValueTask<int>(0);
            }

            var n = (int)Math.Min(destination.Length, file.Length - offset);
            file.Span.Slice((int)offset, n).CopyTo(destination.Span);
            return new ValueTask<int>(n);
        }
    }

    private sealed class StreamSource(Stream stream) : IRangeSource
    {
        private readonly SemaphoreSlim _gate = new(1, 1);

        public long Length => stream.Length;

        public async ValueTask<int> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(offset);
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                stream.Position = offset;
                return await stream.ReadAtLeastAsync(destination, destination.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    private sealed class DelegateSource(long length, Func<long, Memory<byte>, CancellationToken, ValueTask<int>> read) : IRangeSource
    {
        public long Length => length;

        public ValueTask<int> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
            read(offset, destination, cancellationToken);
    }
}
