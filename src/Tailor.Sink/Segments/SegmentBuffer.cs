using System.Buffers;

namespace Tailor.Sink.Segments;

/// <summary>A filled chunk of segment bytes on its way to the upload; the array goes back to the pool after.</summary>
internal readonly record struct SegmentChunk(byte[] Array, int Length);

/// <summary>
/// The <see cref="IBufferWriter{T}"/> a segment is written into on the poll thread: bytes collect in
/// pooled chunks, and each full chunk is handed to <c>onChunk</c> (the upload pump) at once, so a
/// segment never sits whole in memory.
/// </summary>
internal sealed class SegmentBuffer(int chunkBytes, Action<SegmentChunk> onChunk) : IBufferWriter<byte>
{
    private byte[]? _chunk;
    private int _used;

    /// <summary>Bytes written into the chunk not yet handed over.</summary>
    public int Pending => _used;

    public void Advance(int count)
    {
        _used += count;
        if (_used >= chunkBytes)
        {
            Flush();
        }
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _chunk.AsMemory(_used);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _chunk.AsSpan(_used);
    }

    /// <summary>Hands over whatever is buffered.</summary>
    public void Flush()
    {
        if (_chunk is not null && _used > 0)
        {
            var chunk = new SegmentChunk(_chunk, _used);
            _chunk = null;
            _used = 0;
            onChunk(chunk);
        }
    }

    /// <summary>Returns the chunk being filled without handing it over (the segment is aborted).</summary>
    public void Discard()
    {
        if (_chunk is not null)
        {
            ArrayPool<byte>.Shared.Return(_chunk);
            _chunk = null;
            _used = 0;
        }
    }

    private void Ensure(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (_chunk is not null && _chunk.Length - _used >= sizeHint)
        {
            return;
        }

        Flush();
        _chunk = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, chunkBytes));
    }
}
