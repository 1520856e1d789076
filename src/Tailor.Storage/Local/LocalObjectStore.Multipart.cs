using System.Buffers;
using System.Globalization;

namespace Tailor.Storage;

/// <summary>The request-level multipart protocol of the local store: each part is a file under <c>.tailor-tmp/uploads/&lt;id&gt;/</c>.</summary>
public sealed partial class LocalObjectStore
{
    /// <inheritdoc/>
    /// <remarks>The local store's own <see cref="StartUploadAsync"/> does not use this; decorators that act on single parts do.</remarks>
    public Task<string> InitiateUploadAsync(string key, CancellationToken cancellationToken = default)
    {
        PathOf(StoreOperation.InitiateUpload, key);
        return _calls.ExecuteAsync(StoreOperation.InitiateUpload, key, (this, key), static async (s, _, ct) =>
        {
            var id = Guid.NewGuid().ToString("N");
            try
            {
                var folder = s.Item1.UploadFolder(id);
                Directory.CreateDirectory(folder);
                await File.WriteAllTextAsync(Path.Combine(folder, "key"), s.key, ct).ConfigureAwait(false);
                return id;
            }
            catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
            {
                throw LocalErrors.Translate(ex, s.Item1.Name, StoreOperation.InitiateUpload, s.key);
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlySequence<byte> data, CancellationToken cancellationToken = default)
    {
        PathOf(StoreOperation.UploadPart, key);
        ArgumentOutOfRangeException.ThrowIfLessThan(partNumber, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partNumber, MultipartOptions.MaxParts);
        return _calls.ExecuteAsync(StoreOperation.UploadPart, key, (this, key, uploadId, partNumber, data), static async (s, _, ct) =>
        {
            var store = s.Item1;
            var folder = await store.OpenUploadFolderAsync(StoreOperation.UploadPart, s.key, s.uploadId, ct).ConfigureAwait(false);
            var temp = store.NewTemporaryPath();
            try
            {
                using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    long offset = 0;
                    foreach (var segment in s.data)
                    {
                        await RandomAccess.WriteAsync(handle, segment, offset, ct).ConfigureAwait(false);
                        offset += segment.Length;
                    }
                }

                File.Move(temp, Path.Combine(folder, PartFileName(s.partNumber)), overwrite: true);
                return new UploadedPart(s.partNumber, string.Create(CultureInfo.InvariantCulture, $"{s.partNumber}-{s.data.Length:x}"), s.data.Length);
            }
            catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
            {
                store.DeleteQuietly(temp);
                throw LocalErrors.Translate(ex, store.Name, StoreOperation.UploadPart, s.key);
            }
            catch
            {
                store.DeleteQuietly(temp);
                throw;
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ObjectInfo> CompleteUploadAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default)
    {
        var path = PathOf(StoreOperation.CompleteUpload, key);
        ArgumentNullException.ThrowIfNull(parts);
        return _calls.ExecuteAsync(StoreOperation.CompleteUpload, key, (this, key, uploadId, parts, path), static async (s, _, ct) =>
        {
            var store = s.Item1;
            var folder = await store.OpenUploadFolderAsync(StoreOperation.CompleteUpload, s.key, s.uploadId, ct).ConfigureAwait(false);
            var temp = store.NewTemporaryPath();
            try
            {
                using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                {
                    var previous = 0;
                    foreach (var part in s.parts)
                    {
                        var file = new FileInfo(Path.Combine(folder, PartFileName(part.PartNumber)));
                        if (part.PartNumber <= previous || !file.Exists || file.Length != part.Size)
                        {
                            throw new ObjectStoreException(
                                ObjectStoreErrorKind.InvalidRequest, store.Name, StoreOperation.CompleteUpload, s.key,
                                $"part {part.PartNumber} is missing, out of order or not the size it was uploaded with");
                        }

                        previous = part.PartNumber;
                        using var input = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                        await input.CopyToAsync(output, ct).ConfigureAwait(false);
                    }

                    if (store.FlushToDisk)
                    {
                        output.Flush(flushToDisk: true);
                    }
                }

                store.Commit(StoreOperation.CompleteUpload, s.key, temp, s.path, replace: true);
                Directory.Delete(folder, recursive: true);
                return InfoOf(s.key, new FileInfo(s.path));
            }
            catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
            {
                store.DeleteQuietly(temp);
                throw LocalErrors.Translate(ex, store.Name, StoreOperation.CompleteUpload, s.key);
            }
            catch
            {
                store.DeleteQuietly(temp);
                throw;
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken = default)
    {
        PathOf(StoreOperation.AbortUpload, key);
        return _calls.ExecuteAsync(StoreOperation.AbortUpload, key, (this, key, uploadId), static (s, _, _) =>
        {
            try
            {
                var folder = s.Item1.UploadFolder(s.uploadId);
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }

                return Task.CompletedTask;
            }
            catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
            {
                throw LocalErrors.Translate(ex, s.Item1.Name, StoreOperation.AbortUpload, s.key);
            }
        }, cancellationToken);
    }

    /// <summary>Upload ids that still have parts (for tests that check no upload is left behind).</summary>
    internal IReadOnlyList<string> PendingUploadIds()
    {
        var uploads = Path.Combine(_tempRoot, "uploads");
        return Directory.Exists(uploads) ? [.. Directory.EnumerateDirectories(uploads).Select(Path.GetFileName).OfType<string>()] : [];
    }

    private static string PartFileName(int partNumber) => partNumber.ToString("D5", CultureInfo.InvariantCulture) + ".part";

    private string UploadFolder(string uploadId)
    {
        if (uploadId.Length != 32 || !uploadId.All(char.IsAsciiHexDigitLower))
        {
            throw new ObjectStoreException(ObjectStoreErrorKind.NotFound, Name, StoreOperation.UploadPart, null, $"'{uploadId}' is not an upload id of this store");
        }

        return Path.Combine(_tempRoot, "uploads", uploadId);
    }

    private async Task<string> OpenUploadFolderAsync(StoreOperation operation, string key, string uploadId, CancellationToken cancellationToken)
    {
        var folder = UploadFolder(uploadId);
        string owner;
        try
        {
            owner = await File.ReadAllTextAsync(Path.Combine(folder, "key"), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectStoreException(ObjectStoreErrorKind.NotFound, Name, operation, key, $"no upload '{uploadId}' (NoSuchUpload)", ex, errorCode: "NoSuchUpload");
        }

        if (owner != key)
        {
            throw new ObjectStoreException(ObjectStoreErrorKind.NotFound, Name, operation, key, $"upload '{uploadId}' belongs to another key (NoSuchUpload)", errorCode: "NoSuchUpload");
        }

        return folder;
    }
}
