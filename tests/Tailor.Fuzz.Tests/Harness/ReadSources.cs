using System.Buffers;

namespace Tailor.Fuzz.Tests.Harness;

/// <summary>Ways to hand the same bytes to a reader: cut into a chain of buffers, or trickled through a stream.</summary>
public static class ReadSources
{
    /// <summary>A <see cref="ReadOnlySequence{T}"/> over <paramref name="data"/> cut into pieces of random sizes (some of one byte).</summary>
    public static ReadOnlySequence<byte> Chunked(byte[] data, FuzzRandom random, int offset = 0)
    {
        if (data.Length - offset <= 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Piece? first = null;
        Piece? last = null;
        var at = offset;
        while (at < data.Length)
        {
            var size = Math.Min(data.Length - at, random.Next(4) == 0 ? random.Next(1, 40) : random.NextLength(8192) + 1);
            var piece = new Piece(data.AsMemory(at, size), last is null ? 0 : last.RunningIndex + last.Memory.Length);
            if (last is null)
            {
                first = piece;
            }
            else
            {
                last.SetNext(piece);
            }

            last = piece;
            at += size;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>Blocks until a value task completes (sources here complete synchronously) and returns its result.</summary>
    public static T Wait<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();

    public static void Wait(ValueTask task)
    {
        if (!task.IsCompletedSuccessfully)
        {
            task.AsTask().GetAwaiter().GetResult();
        }
    }

    private sealed class Piece : ReadOnlySequenceSegment<byte>
    {
        public Piece(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Piece next) => Next = next;
    }
}

/// <summary>A read-only, non-seekable stream that returns a few bytes at a time, like a slow network body.</summary>
public sealed class TrickleStream : Stream
{
    private readonly byte[] _data;
    private readonly FuzzRandom _random;
    private readonly int _largest;
    private int _position;

    public TrickleStream(byte[] data, FuzzRandom random, int offset = 0)
    {
        _data = data;
        _random = random;
        _position = offset;
        _largest = random.NextBool() ? 64 : 70_000;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(Math.Min(buffer.Length, _data.Length - _position), _random.Next(1, _largest));
        _data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
