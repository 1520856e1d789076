using Microsoft.Win32.SafeHandles;

namespace Tailor.Storage;

/// <summary>
/// The streamed upload of a <see cref="LocalObjectStore"/>: bytes go straight to a temporary file
/// inside the root (nothing is buffered in memory), which is flushed and renamed into place on completion.
/// </summary>
internal sealed class LocalUpload : IMultipartUpload
{
    private readonly LocalObjectStore _store;
    private readonly string _path;
    private SafeFileHandle? _handle;
    private string? _temp;
    private long _written;
    private bool _finished;
    private ObjectInfo? _result;
    private Exception? _failure;

    public LocalUpload(LocalObjectStore store, string key, string path)
    {
        _store = store;
        Key = key;
        _path = path;
    }

    public string Key { get; }

    public long BytesWritten => Volatile.Read(ref _written);

    public long BufferedBytes => 0;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ThrowIfFinished();
        if (data.IsEmpty)
        {
            return;
        }

        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var handle = Open();
            await RandomAccess.WriteAsync(handle, data, _written, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _written, data.Length);
        }
        catch (Exception ex)
        {
            var translated = Fail(ex, StoreOperation.UploadPart);
            if (ReferenceEquals(translated, ex))
            {
                throw;
            }

            throw translated;
        }
    }

    public async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_result is not null)
        {
            return _result;
        }

        ThrowIfFinished();
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var handle = Open();
            _result = await _store.Calls.ExecuteAsync(StoreOperation.CompleteUpload, Key, (this, handle), static (s, _, _) =>
            {
                var upload = s.Item1;
                try
                {
                    if (upload._store.FlushToDisk)
                    {
                        RandomAccess.FlushToDisk(s.handle);
                    }
                }
                catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
                {
                    throw LocalErrors.Translate(ex, upload._store.Name, StoreOperation.CompleteUpload, upload.Key);
                }

                s.handle.Dispose();
                upload._store.Commit(StoreOperation.CompleteUpload, upload.Key, upload._temp!, upload._path, replace: true);
                upload._temp = null;
                return Task.FromResult(LocalObjectStore.InfoOf(upload.Key, new FileInfo(upload._path)));
            }, cancellationToken).ConfigureAwait(false);
            _finished = true;
            return _result;
        }
        catch (Exception ex)
        {
            var translated = Fail(ex, StoreOperation.CompleteUpload);
            if (ReferenceEquals(translated, ex))
            {
                throw;
            }

            throw translated;
        }
    }

    public Task AbortAsync(CancellationToken cancellationToken = default)
    {
        if (!_finished)
        {
            _finished = true;
            Discard();
        }

        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        if (!_finished)
        {
            _finished = true;
            Discard();
        }

        return ValueTask.CompletedTask;
    }

    private SafeFileHandle Open()
    {
        if (_handle is not null)
        {
            return _handle;
        }

        // Opened on the first byte, so an upload that never receives data holds no file.
        _temp = _store.NewTemporaryPath();
        _handle = File.OpenHandle(_temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        return _handle;
    }

    private Exception Fail(Exception exception, StoreOperation operation)
    {
        _finished = true;
        _failure = exception;
        Discard();
        return LocalErrors.IsFileSystemFailure(exception) ? LocalErrors.Translate(exception, _store.Name, operation, Key) : exception;
    }

    private void Discard()
    {
        _handle?.Dispose();
        _handle = null;
        if (_temp is not null)
        {
            _store.DeleteQuietly(_temp);
            _temp = null;
        }
    }

    private void ThrowIfFinished()
    {
        if (_finished)
        {
            throw _failure is null
                ? new InvalidOperationException($"The upload of '{Key}' is already completed or aborted.")
                : new InvalidOperationException($"The upload of '{Key}' failed and was aborted: {_failure.Message}", _failure);
        }
    }
}
