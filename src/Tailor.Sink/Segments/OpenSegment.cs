using System.Buffers;
using System.Threading.Channels;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Storage;

namespace Tailor.Sink.Segments;

/// <summary>
/// One segment of one shard: written on the poll thread, streamed to the store by a background pump
/// as its chunks fill, completed (footer, trailer, upload completion) on rotation.
/// </summary>
internal sealed class OpenSegment
{
    private readonly Channel<SegmentChunk> _chunks = Channel.CreateUnbounded<SegmentChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly SegmentBuffer _buffer;
    private readonly SegmentWriter _writer;
    private readonly IObjectStore _store;
    private readonly CancellationTokenSource _abort = new();
    private readonly HashSet<SourcePartition> _partitions = [];
    private long _queuedBytes;
    private IMultipartUpload? _upload;

    public OpenSegment(ShardName shard, string key, ulong writerId, ulong sequence, DateTimeOffset openedAt, IObjectStore store, SinkOptions options,
        Action<OpenSegment> onSettled)
    {
        Shard = shard;
        Key = key;
        OpenedAt = openedAt;
        _store = store;
        Ticket = new DurabilityTicket(key);
        _buffer = new SegmentBuffer(options.ChunkBytes, Enqueue);
        _writer = new SegmentWriter(_buffer, new SegmentWriterOptions
        {
            WriterId = writerId,
            Sequence = sequence,
            OpenedAt = openedAt.ToUnixTimeMilliseconds(),
            BlockTargetBytes = options.BlockTargetBytes,
            MaxRecordBytes = Math.Max(options.MaxPayloadBytes, Tailor.Format.FormatLimits.DefaultMaxRecordBytes),
        });
        Pump = Task.Run(() => PumpAsync(onSettled));
    }

    public ShardName Shard { get; }

    public string Key { get; }

    public DateTimeOffset OpenedAt { get; }

    public DurabilityTicket Ticket { get; }

    public Task Pump { get; }

    public bool IsCompleting { get; private set; }

    public long Payloads => _writer.RecordCount;

    public long Points => _writer.Stats.PointCount;

    public long Length => _writer.Length;

    /// <summary>The partitions whose records this segment holds.</summary>
    public IReadOnlyCollection<SourcePartition> Partitions => _partitions;

    /// <summary>Bytes held in memory for this segment: chunks not yet given to the upload plus the upload's own buffers.</summary>
    public long BufferedBytes => _buffer.Pending + Interlocked.Read(ref _queuedBytes) + (Volatile.Read(ref _upload)?.BufferedBytes ?? 0);

    public void Append(ReadOnlySpan<byte> frame, in PayloadSummary summary, SourcePartition partition)
    {
        _writer.Append(frame, summary);
        _partitions.Add(partition);
    }

    /// <summary>Writes the footer and trailer and lets the pump finish the upload.</summary>
    public void Complete()
    {
        if (IsCompleting)
        {
            return;
        }

        IsCompleting = true;
        _writer.Complete();
        _buffer.Flush();
        _chunks.Writer.TryComplete();
    }

    /// <summary>Stops the pump and aborts the upload; the ticket fails, so nothing of it is committed.</summary>
    public void Abort()
    {
        IsCompleting = true;
        _buffer.Discard();
        _chunks.Writer.TryComplete();
        _abort.Cancel();
    }

    private void Enqueue(SegmentChunk chunk)
    {
        Interlocked.Add(ref _queuedBytes, chunk.Length);
        if (!_chunks.Writer.TryWrite(chunk))
        {
            Interlocked.Add(ref _queuedBytes, -chunk.Length);
            ArrayPool<byte>.Shared.Return(chunk.Array);
        }
    }

    private async Task PumpAsync(Action<OpenSegment> onSettled)
    {
        var token = _abort.Token;
        try
        {
            await foreach (var chunk in _chunks.Reader.ReadAllAsync(token).ConfigureAwait(false))
            {
                try
                {
                    var upload = _upload ??= await _store.StartUploadAsync(Key, token).ConfigureAwait(false);
                    await upload.WriteAsync(chunk.Array.AsMemory(0, chunk.Length), token).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Add(ref _queuedBytes, -chunk.Length);
                    ArrayPool<byte>.Shared.Return(chunk.Array);
                }
            }

            token.ThrowIfCancellationRequested();
            var done = _upload ??= await _store.StartUploadAsync(Key, token).ConfigureAwait(false);
            await done.CompleteAsync(token).ConfigureAwait(false);
            Ticket.SetDurable();
        }
        catch (Exception e)
        {
            Ticket.SetFailed(e);
            while (_chunks.Reader.TryRead(out var chunk))
            {
                Interlocked.Add(ref _queuedBytes, -chunk.Length);
                ArrayPool<byte>.Shared.Return(chunk.Array);
            }

            if (_upload is not null)
            {
                try
                {
                    await _upload.AbortAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The store's own abort already logged; an orphaned upload is cleaned by bucket lifecycle rules.
                }
            }
        }
        finally
        {
            if (_upload is not null)
            {
                await _upload.DisposeAsync().ConfigureAwait(false);
            }

            onSettled(this);
        }
    }
}
