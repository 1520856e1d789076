using Tailor.Format.IO;
using Tailor.Format.Series;
using Tailor.Storage;

namespace Tailor.Compaction.Writing;

/// <summary>One S-file part written by a job.</summary>
/// <param name="Key">Its object key.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Series">Series in it.</param>
/// <param name="Points">Points in it.</param>
/// <param name="FirstSeries">Its first series key, ORG:METRIC:CONTEXT.</param>
/// <param name="LastSeries">Its last series key.</param>
/// <param name="Sha256">The SHA-256 of its bytes, hex.</param>
public sealed record PartInfo(string Key, long Size, long Series, long Points, string FirstSeries, string LastSeries, string Sha256);

/// <summary>
/// Writes merged series into S-file parts of about the target size: each part is written to a local
/// file, then uploaded while the next part is being written.
/// </summary>
internal sealed class PartWriter : IAsyncDisposable
{
    private readonly IObjectStore _store;
    private readonly CompactionJob _job;
    private readonly CompactionOptions _options;
    private readonly string _folder;
    private readonly List<Task<PartInfo>> _uploads = [];
    private FileStream? _file;
    private HashingWriteStream? _hashing;
    private StreamBufferWriter? _buffer;
    private SFileWriter? _writer;
    private string? _path;
    private Task? _flush;
    private long _flushed;
    private int _part;
    private CancellationToken _cancellation;

    public PartWriter(IObjectStore store, CompactionJob job, CompactionOptions options, string folder)
    {
        _store = store;
        _job = job;
        _options = options;
        _folder = folder;
    }

    public long BytesWritten { get; private set; }

    public TimeSpan UploadTime { get; private set; }

    public void Start(CancellationToken cancellationToken) => _cancellation = cancellationToken;

    /// <summary>Writes the series of an encoded chunk (the next key range) into parts.</summary>
    public void Accept(EncodedChunk chunk)
    {
        for (long i = 0; i < chunk.Count; i++)
        {
            if (_writer is null)
            {
                Open();
            }

            ref var series = ref chunk[i];
            var key = new SeriesKey(series.Key.Org, series.Key.Metric, series.Key.Context);
            _writer!.AddEncodedSeries(key, chunk.Metadata(series), chunk.Block(series), series.Count, series.First, series.Last);
            if (_writer.Length >= _options.TargetPartBytes)
            {
                Close();
            }
        }

        FlushAhead();
    }

    /// <summary>
    /// Into a local store that flushes every put to disk, the part's bytes are flushed in the
    /// background as they are written: the flush at the move then has little left, and the job's
    /// end no longer waits for a whole part to reach the disk (40 of 80 ms at the end of the
    /// compaction benchmark).
    /// </summary>
    private void FlushAhead()
    {
        if (_file is null || _store is not LocalObjectStore { FlushToDisk: true } || (_flush is { IsCompleted: false })
            || _file.Length - _flushed < _options.FlushAheadBytes)
        {
            return;
        }

        _flushed = _file.Length;
        Interlocked.Increment(ref FlushesStarted);
        var handle = _file.SafeFileHandle;
        // A thread of its own: the flush waits on the disk, and the pool's threads are merging.
        _flush = Task.Factory.StartNew(() => RandomAccess.FlushToDisk(handle), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Background flushes started by every part writer (for tests).</summary>
    internal static long FlushesStarted;

    /// <summary>Closes the last part and waits for every upload.</summary>
    public async Task<IReadOnlyList<PartInfo>> FinishAsync()
    {
        Close();
        var parts = await Task.WhenAll(_uploads).ConfigureAwait(false);
        return parts;
    }

    public async ValueTask DisposeAsync()
    {
        _writer?.Dispose();
        _buffer?.Dispose();
        _hashing?.Dispose();
        WaitForFlush();
        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await Task.WhenAll(_uploads).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Already reported by FinishAsync; disposal only waits.
        }
    }

    /// <summary>Waits for a background flush of the part file (before the file is closed); a failed one is left to the flush at the move, which reports it.</summary>
    private void WaitForFlush()
    {
        if (_flush is null)
        {
            return;
        }

        try
        {
            _flush.Wait();
        }
        catch (AggregateException)
        {
            // The move into the store flushes the whole file again and reports a failure there.
        }

        _flush = null;
    }

    private void Open()
    {
        _path = Path.Combine(_folder, $"part-{_part:D5}.tsf");
        _file = new FileStream(_path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None);
        _hashing = new HashingWriteStream(_file);
        _buffer = new StreamBufferWriter(_hashing, 4 << 20, Memory.CompactionBuffers.Pool);
        _writer = new SFileWriter(_buffer, new SFileWriterOptions
        {
            Codec = _options.Codec,
            Shard = _job.Shard.Value,
            WindowStart = _job.Window.StartSeconds,
            WindowSeconds = (long)_job.Window.Length.TotalSeconds,
            BufferPool = Memory.CompactionBuffers.Pool,
        });
    }

    private void Close()
    {
        if (_writer is null)
        {
            return;
        }

        var footer = _writer.Complete();
        _writer.Dispose();
        _writer = null;
        _buffer!.Dispose();
        _buffer = null;
        WaitForFlush();
        _flushed = 0;
        _file!.Flush();
        var size = _file.Length;
        _file.Dispose();
        _file = null;
        var sha256 = _hashing!.Finish();
        _hashing = null;
        BytesWritten += size;
        var stats = footer.Stats;
        var part = new PartInfo(ObjectKeys.SeriesFile(_job.Shard, _job.Window.Start, _part++, _job.Generation), size, stats.SeriesCount,
            stats.PointCount, stats.FirstKey.ToString(), stats.LastKey.ToString(), sha256);
        var path = _path!;
        _uploads.Add(Task.Run(() => UploadAsync(path, part, _cancellation)));
    }

    private async Task<PartInfo> UploadAsync(string path, PartInfo part, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            if (_store is LocalObjectStore local)
            {
                // The part is already a file on local disk: move it into the store instead of writing it again.
                await local.MoveInAsync(part.Key, path, cancellationToken).ConfigureAwait(false);
                return part;
            }

            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            var buffer = Memory.CompactionBuffers.Pool.Rent(1 << 20);
            try
            {
                await using var upload = await _store.StartUploadAsync(part.Key, cancellationToken).ConfigureAwait(false);
                int n;
                while ((n = await file.ReadAsync(buffer.AsMemory(0, 1 << 20), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await upload.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                }

                await upload.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Memory.CompactionBuffers.Pool.Return(buffer);
            }

            return part;
        }
        finally
        {
            File.Delete(path); // gone already when moved into a local store; Delete ignores a missing file

            lock (_uploads)
            {
                UploadTime += System.Diagnostics.Stopwatch.GetElapsedTime(started);
            }
        }
    }
}

/// <summary>A write-only pass-through stream that hashes (SHA-256) what goes through it.</summary>
internal sealed class HashingWriteStream(Stream inner) : Stream
{
    private readonly System.Security.Cryptography.IncrementalHash _hash =
        System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => throw new NotSupportedException();
    }

    /// <summary>The hash of every byte written, lower-case hex; the stream is done.</summary>
    public string Finish()
    {
        var hex = Convert.ToHexStringLower(_hash.GetHashAndReset());
        _hash.Dispose();
        return hex;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.AppendData(buffer);
        inner.Write(buffer);
    }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
