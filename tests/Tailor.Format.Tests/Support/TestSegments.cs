using System.Buffers;
using System.IO.Pipelines;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;

namespace Tailor.Format.Tests.Support;

public sealed record SeenRecord(long Offset, uint Ordinal, byte[] Frame);

public sealed record BuiltSegment(byte[] File, byte[][] Frames, long[] Offsets, SegmentFooter Footer)
{
    /// <summary>File offset just past record i (where record i+1 or the footer starts).</summary>
    public long End(int i) => Offsets[i] + SegmentFormat.RecordHeaderLength + Frames[i].Length;
}

public enum ReaderKind
{
    Span,
    Sequence,
    Stream,
    NonSeekableStream,
    Pipe,
    Mapped,
    MemoryWindows,
    FileWindows,
}

public static class TestSegments
{
    public static readonly SyncMarker FixedMarker = new(0x0123456789ABCDEF, 0xFEDCBA9876543210);

    public static BuiltSegment Build(IReadOnlyList<byte[]> frames, int blockTargetBytes = 4096, SyncMarker? marker = null)
    {
        using var decoder = new PayloadDecoder();
        var output = new ArrayBufferWriter<byte>();
        var writer = new SegmentWriter(output, new SegmentWriterOptions
        {
            WriterId = 0xABCDEF,
            Sequence = 7,
            OpenedAt = 1_790_000_000_000,
            SyncMarker = marker ?? FixedMarker,
            BlockTargetBytes = blockTargetBytes,
        });
        var offsets = new long[frames.Count];
        for (var i = 0; i < frames.Count; i++)
        {
            if (decoder.TryValidate(frames[i], out var summary) != PayloadStatus.Ok)
            {
                throw new InvalidDataException("test frame is not a valid payload");
            }

            offsets[i] = writer.Append(frames[i], summary);
        }

        var footer = writer.Complete();
        return new BuiltSegment(output.WrittenSpan.ToArray(), [.. frames], offsets, footer);
    }

    public static BuiltSegment BuildRandom(Random rng, int count, int maxSeries = 4, int maxPoints = 20)
    {
        using var writer = new PayloadWriter();
        var frames = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            frames.Add(TestPayloads.Encode(writer, TestPayloads.Random(rng, maxSeries, maxPoints)));
        }

        return Build(frames, blockTargetBytes: rng.Next(64, 4096));
    }

    /// <summary>Reads every record of a whole file with the chosen reader kind.</summary>
    public static (List<SeenRecord> Records, SegmentReadStats Stats) ReadAll(byte[] file, ReaderKind kind, Random? rng = null, SegmentReaderOptions? options = null)
    {
        rng ??= new Random(1);
        var records = new List<SeenRecord>();
        switch (kind)
        {
            case ReaderKind.Span:
                {
                    var layout = SegmentLayout.Read(file);
                    var reader = SegmentReader.OverFile(file, layout.CreateFileState(options));
                    while (reader.TryReadRecord(out var r))
                    {
                        records.Add(new SeenRecord(r.Offset, r.Ordinal, r.Frame.ToArray()));
                    }

                    return (records, reader.CurrentState.Stats);
                }

            case ReaderKind.Sequence:
                {
                    var layout = SegmentLayout.Read(file);
                    var reader = new SegmentSequenceReader(Chop(file, rng), 0, layout.CreateFileState(options));
                    while (reader.TryReadRecord(out var r))
                    {
                        records.Add(new SeenRecord(r.Offset, r.Ordinal, r.Frame.ToArray()));
                    }

                    var stats = reader.State.Stats;
                    reader.Dispose();
                    return (records, stats);
                }

            case ReaderKind.Stream:
            case ReaderKind.NonSeekableStream:
                {
                    Stream stream = new MemoryStream(file, writable: false);
                    if (kind == ReaderKind.NonSeekableStream)
                    {
                        stream = new TrickleStream(stream, rng);
                    }

                    using var reader = new SegmentStreamReader(stream, options);
                    while (reader.ReadNextAsync().AsTask().GetAwaiter().GetResult())
                    {
                        records.Add(new SeenRecord(reader.CurrentOffset, reader.CurrentOrdinal, reader.CurrentFrame.ToArray()));
                    }

                    return (records, reader.State.Stats);
                }

            case ReaderKind.Pipe:
                {
                    var pipe = PipeReader.Create(new TrickleStream(new MemoryStream(file), rng), new StreamPipeReaderOptions(bufferSize: rng.Next(64, 8192), minimumReadSize: 32));
                    var reader = new SegmentPipeReader(pipe, options);
                    while (reader.ReadNextAsync().AsTask().GetAwaiter().GetResult())
                    {
                        records.Add(new SeenRecord(reader.CurrentOffset, reader.CurrentOrdinal, reader.CurrentFrame.ToArray()));
                    }

                    var stats = reader.State.Stats;
                    reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
                    return (records, stats);
                }

            case ReaderKind.Mapped:
                {
                    var path = Path.Combine(Path.GetTempPath(), $"tailor-test-{Guid.NewGuid():N}.tseg");
                    File.WriteAllBytes(path, file);
                    try
                    {
                        using var mapped = new MappedSegmentFile(path);
                        var cursor = mapped.CreateCursor(options: options, windowBytes: rng.Next(SegmentFormat.RecordHeaderLength, 600));
                        while (cursor.TryReadRecord(out var r))
                        {
                            records.Add(new SeenRecord(r.Offset, r.Ordinal, r.Frame.ToArray()));
                        }

                        return (records, cursor.State.Stats);
                    }
                    finally
                    {
                        File.Delete(path);
                    }
                }

            case ReaderKind.FileWindows:
                {
                    var path = Path.Combine(Path.GetTempPath(), $"tailor-test-{Guid.NewGuid():N}.tseg");
                    File.WriteAllBytes(path, file);
                    try
                    {
                        var layout = FileSegmentCursor.ReadLayout(path);
                        using var cursor = FileSegmentCursor.Open(path, layout, options: options, windowBytes: rng.Next(SegmentFormat.RecordHeaderLength, 700));
                        while (cursor.TryReadRecord(out var r))
                        {
                            records.Add(new SeenRecord(r.Offset, r.Ordinal, r.Frame.ToArray()));
                        }

                        return (records, cursor.State.Stats);
                    }
                    finally
                    {
                        File.Delete(path);
                    }
                }

            default:
                {
                    var layout = SegmentLayout.Read(file);
                    var cursor = new MemorySegmentCursor(file, layout.CreateFileState(options), rng.Next(SegmentFormat.RecordHeaderLength, 300));
                    while (cursor.TryReadRecord(out var r))
                    {
                        records.Add(new SeenRecord(r.Offset, r.Ordinal, r.Frame.ToArray()));
                    }

                    return (records, cursor.State.Stats);
                }
        }
    }

    /// <summary>Cuts a buffer into a sequence of random-length segments.</summary>
    public static ReadOnlySequence<byte> Chop(byte[] data, Random rng)
    {
        if (data.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Chunk? first = null;
        Chunk? last = null;
        var position = 0;
        while (position < data.Length)
        {
            var length = Math.Min(data.Length - position, rng.Next(1, 200));
            var chunk = new Chunk(data.AsMemory(position, length));
            if (first is null)
            {
                first = chunk;
            }
            else
            {
                last!.Append(chunk);
            }

            last = chunk;
            position += length;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
    {
        public Chunk(ReadOnlyMemory<byte> memory) => Memory = memory;

        public void Append(Chunk next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
        }
    }
}

/// <summary>A non-seekable stream that returns short reads of random length, as a network stream does.</summary>
public sealed class TrickleStream(Stream inner, Random rng) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public long BytesRead { get; private set; }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = inner.Read(buffer, offset, Math.Min(count, rng.Next(1, 500)));
        BytesRead += n;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
