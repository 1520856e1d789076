using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace Tailor.Storage;

/// <summary>
/// An object store in a local folder (<c>file:///path</c>): one file per object, the key's segments
/// as folders. For laptops, tests, the demo and single-machine deployments.
/// </summary>
/// <remarks>
/// <para>
/// Every write goes to a temporary file inside the root (<c>.tailor-tmp/</c>, hidden from listings and
/// reserved: no key may start with it), is flushed to disk and then renamed into place, so readers see
/// the old object or the whole new one, and a failed write (a full disk included) leaves nothing. A
/// conditional create hard-links the finished file into place, which the kernel refuses atomically when
/// the key exists (<see cref="StoreCapabilities.ConditionalCreate"/>; <c>File.Move</c> without overwrite
/// is not atomic on Linux).
/// </para>
/// <para>
/// Offsets and sizes are 64-bit everywhere, so objects of many GiB work. Unlike S3, a key cannot be both
/// an object and a folder of other keys (<c>a</c> and <c>a/b</c>): the second write fails with
/// <see cref="ObjectStoreErrorKind.Conflict"/>. The engines' key layout never does this.
/// </para>
/// <para>An open read stream keeps reading the object it opened even if the key is replaced or deleted meanwhile.</para>
/// </remarks>
public sealed partial class LocalObjectStore : IObjectStore, IMultipartProtocol
{
    /// <summary>The folder under the root that holds temporary files and multipart parts.</summary>
    public const string TemporaryFolderName = ".tailor-tmp";

    private readonly LocalObjectStoreOptions _options;
    private readonly RetryPolicy _calls;
    private readonly string _tempRoot;
    private readonly ILogger _logger;

    /// <summary>Opens a store rooted at a folder.</summary>
    /// <param name="rootPath">The root folder; relative paths are resolved against the current directory.</param>
    /// <param name="options">Options; <see langword="null"/> takes the defaults.</param>
    /// <exception cref="ObjectStoreException"><see cref="ObjectStoreErrorKind.BucketNotFound"/> when the root is missing and may not be created, or another kind when it cannot be created.</exception>
    public LocalObjectStore(string rootPath, LocalObjectStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootPath);
        _options = options ?? new LocalObjectStoreOptions();
        _logger = _options.Logger ?? NullLogger.Instance;
        RootPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootPath));
        Name = new Uri(RootPath + Path.DirectorySeparatorChar).AbsoluteUri.TrimEnd('/');
        _calls = new RetryPolicy(Name, RetryOptions.None);
        _tempRoot = Path.Combine(RootPath, TemporaryFolderName);
        if (!Directory.Exists(RootPath))
        {
            if (!_options.CreateRoot)
            {
                throw new ObjectStoreException(
                    ObjectStoreErrorKind.BucketNotFound, Name, StoreOperation.List, null,
                    $"the root folder '{RootPath}' does not exist");
            }
        }

        try
        {
            Directory.CreateDirectory(_tempRoot);
        }
        catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
        {
            throw LocalErrors.Translate(ex, Name, StoreOperation.Put, null);
        }
    }

    /// <summary>The absolute path of the root folder.</summary>
    public string RootPath { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public StoreCapabilities Capabilities => StoreCapabilities.ConditionalCreate;

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (ObjectKeyRules.CheckPrefix(prefix) is { } problem)
        {
            throw InvalidKey(StoreOperation.List, prefix, problem);
        }

        var lastSlash = prefix.LastIndexOf('/');
        var folderKey = prefix[..(lastSlash + 1)];
        var namePrefix = prefix[(lastSlash + 1)..];

        // Depth-first walk with each folder's entries sorted as keys sort: a folder "a" sorts as "a/",
        // so the walk yields keys in the same order an S3 listing does.
        var stack = new Stack<(string Folder, string KeyPrefix, Queue<Entry> Entries)>();
        stack.Push((Path.Combine(RootPath, folderKey), folderKey, ReadFolder(Path.Combine(RootPath, folderKey), folderKey, namePrefix, prefix)));
        while (stack.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (folder, keyPrefix, entries) = stack.Peek();
            if (!entries.TryDequeue(out var entry))
            {
                stack.Pop();
                continue;
            }

            var key = keyPrefix + entry.Name;
            if (entry.IsFolder)
            {
                var child = Path.Combine(folder, entry.Name);
                stack.Push((child, key + "/", ReadFolder(child, key + "/", string.Empty, prefix)));
                continue;
            }

            yield return new ObjectInfo(key, entry.Size, ETagOf(entry.Size, entry.LastModified), entry.LastModified);
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(StoreOperation.Head, key);
        return _calls.ExecuteAsync(StoreOperation.Head, key, (this, key, path), static (s, _, _) =>
        {
            try
            {
                var file = new FileInfo(s.path);
                return Task.FromResult(file.Exists ? InfoOf(s.key, file) : null);
            }
            catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
            {
                throw LocalErrors.Translate(ex, s.Item1.Name, StoreOperation.Head, s.key);
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "The length must not be negative.");
        }

        var path = PathOf(StoreOperation.Get, key);
        return _calls.ExecuteAsync(StoreOperation.Get, key, (this, key, path, offset, length), static (s, _, _) =>
        {
            var handle = s.Item1.OpenForRead(s.path, s.key);
            try
            {
                var size = RandomAccess.GetLength(handle);
                var start = Math.Min(s.offset, size);
                var end = s.length is { } n ? Math.Min(size, start + n) : size;
                return Task.FromResult<Stream>(new FileRangeStream(handle, start, end));
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var path = PathOf(StoreOperation.Get, key);
        return _calls.ExecuteAsync(StoreOperation.Get, key, (this, key, path, offset, destination), static async (s, _, ct) =>
        {
            using var handle = s.Item1.OpenForRead(s.path, s.key);
            try
            {
                var total = 0;
                while (total < s.destination.Length)
                {
                    var n = await RandomAccess.ReadAsync(handle, s.destination[total..], s.offset + total, ct).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }

                    total += n;
                }

                return total;
            }
            catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
            {
                throw LocalErrors.Translate(ex, s.Item1.Name, StoreOperation.Get, s.key);
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var path = PathOf(StoreOperation.Put, key);
        return _calls.ExecuteAsync(StoreOperation.Put, key, (this, key, path, content), static async (s, _, ct) =>
        {
            var temp = await s.Item1.WriteTemporaryAsync(StoreOperation.Put, s.key, s.content, ct).ConfigureAwait(false);
            s.Item1.Commit(StoreOperation.Put, s.key, temp, s.path, replace: true);
            return InfoOf(s.key, new FileInfo(s.path));
        }, cancellationToken);
    }

    /// <summary>
    /// Stores a finished local file as the object <paramref name="key"/>, replacing any object there,
    /// by moving the file instead of copying its bytes: a rename when the file is on the store's
    /// volume, a copy into the store's temporary folder otherwise. Readers see the old object or the
    /// new one, never a part (the last step is a rename, as for every put). The file is gone afterwards.
    /// </summary>
    /// <remarks>
    /// For a producer that writes a large object to local disk anyway (compaction writes each S-file
    /// part to its work folder first), this saves writing every byte a second time. Counted as a put
    /// on the <c>Tailor.Storage</c> meter.
    /// </remarks>
    /// <param name="key">The object key; validated as for <see cref="PutAsync"/>.</param>
    /// <param name="sourcePath">A finished file the caller no longer writes to.</param>
    /// <param name="cancellationToken">Cancels before the move.</param>
    /// <returns>What was stored.</returns>
    /// <exception cref="ObjectStoreException">The key is invalid or the file system refused.</exception>
    public Task<ObjectInfo> MoveInAsync(string key, string sourcePath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourcePath);
        var path = PathOf(StoreOperation.Put, key);
        return _calls.ExecuteAsync(StoreOperation.Put, key, (this, key, path, sourcePath), static (s, _, ct) =>
        {
            ct.ThrowIfCancellationRequested();
            var store = s.Item1;
            var temp = store.NewTemporaryPath();
            try
            {
                // Into the temporary folder first: across volumes File.Move copies, and a copy must not be visible.
                File.Move(s.sourcePath, temp);
                if (store._options.FlushToDisk)
                {
                    using var handle = File.OpenHandle(temp, FileMode.Open, FileAccess.ReadWrite);
                    RandomAccess.FlushToDisk(handle);
                }
            }
            catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
            {
                store.DeleteQuietly(temp);
                throw LocalErrors.Translate(ex, store.Name, StoreOperation.Put, s.key);
            }

            store.Commit(StoreOperation.Put, s.key, temp, s.path, replace: true);
            return Task.FromResult(InfoOf(s.key, new FileInfo(s.path)));
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var path = PathOf(StoreOperation.Create, key);
        return _calls.ExecuteAsync(StoreOperation.Create, key, (this, key, path, content), static async (s, _, ct) =>
        {
            if (File.Exists(s.path))
            {
                return false;
            }

            var temp = await s.Item1.WriteTemporaryAsync(StoreOperation.Create, s.key, s.content, ct).ConfigureAwait(false);
            return s.Item1.Commit(StoreOperation.Create, s.key, temp, s.path, replace: false);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IMultipartUpload> StartUploadAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(StoreOperation.InitiateUpload, key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IMultipartUpload>(new LocalUpload(this, key, path));
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(StoreOperation.Delete, key);
        return _calls.ExecuteAsync(StoreOperation.Delete, key, (this, key, path), static (s, _, _) =>
        {
            try
            {
                if (File.Exists(s.path))
                {
                    File.Delete(s.path);
                    s.Item1.PruneEmptyFolders(Path.GetDirectoryName(s.path)!);
                }

                return Task.CompletedTask;
            }
            catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
            {
                throw LocalErrors.Translate(ex, s.Item1.Name, StoreOperation.Delete, s.key);
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The file path of a key, after validating the key.</summary>
    internal string PathOf(StoreOperation operation, string key)
    {
        if (ObjectKeyRules.Check(key) is { } problem)
        {
            throw InvalidKey(operation, key, problem);
        }

        if (key == TemporaryFolderName || key.StartsWith(TemporaryFolderName + "/", StringComparison.Ordinal))
        {
            throw InvalidKey(operation, key, $"keys under '{TemporaryFolderName}/' are reserved for the store's temporary files");
        }

        foreach (var segment in key.Split('/'))
        {
            if (Encoding.UTF8.GetByteCount(segment) > 255)
            {
                throw InvalidKey(operation, key, "a segment is longer than the 255 bytes a file name may have");
            }
        }

        var path = Path.GetFullPath(Path.Combine(RootPath, key.Replace('/', Path.DirectorySeparatorChar)));

        // Validation above already rules this out; the check stays as a second lock on the root.
        if (!path.StartsWith(RootPath + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw InvalidKey(operation, key, "the key would name a file outside the store's root");
        }

        return path;
    }

    internal static ObjectInfo InfoOf(string key, FileInfo file)
    {
        var modified = new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero);
        return new ObjectInfo(key, file.Length, ETagOf(file.Length, modified), modified);
    }

    /// <summary>Writes content to a new temporary file, flushed; returns its path. Leaves nothing on failure.</summary>
    internal async Task<string> WriteTemporaryAsync(StoreOperation operation, string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var temp = NewTemporaryPath();
        try
        {
            using var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            await RandomAccess.WriteAsync(handle, content, 0, cancellationToken).ConfigureAwait(false);
            if (_options.FlushToDisk)
            {
                RandomAccess.FlushToDisk(handle);
            }

            return temp;
        }
        catch (Exception ex)
        {
            DeleteQuietly(temp);
            if (LocalErrors.IsFileSystemFailure(ex))
            {
                throw LocalErrors.Translate(ex, Name, operation, key);
            }

            throw;
        }
    }

    /// <summary>Moves a finished temporary file to the object's path; returns <see langword="false"/> when <paramref name="replace"/> is off and the object exists.</summary>
    internal bool Commit(StoreOperation operation, string key, string temp, string path, bool replace)
    {
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    if (replace)
                    {
                        // rename(2): readers see the old object or the new one, never neither or a part.
                        File.Move(temp, path, overwrite: true);
                        return true;
                    }

                    if (AtomicRename.TryMoveNoReplace(temp, path))
                    {
                        return true;
                    }

                    if (Directory.Exists(path))
                    {
                        throw new IOException("A folder is in the way.", 21);
                    }

                    DeleteQuietly(temp);
                    return false;
                }
                catch (DirectoryNotFoundException) when (attempt < 4 && FileBlockingFolders(path) is null)
                {
                    // A concurrent delete pruned the (empty) folder between our create and move: again.
                }
            }
        }
        catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
        {
            DeleteQuietly(temp);
            if (FileBlockingFolders(path) is { } blocker)
            {
                throw new ObjectStoreException(
                    ObjectStoreErrorKind.Conflict, Name, operation, key,
                    $"'{blocker}' is an object, so it cannot also be a folder of keys in a local store", ex);
            }

            if (Directory.Exists(path))
            {
                throw new ObjectStoreException(
                    ObjectStoreErrorKind.Conflict, Name, operation, key,
                    "the key is a folder of other keys, so it cannot also be an object in a local store", ex);
            }

            throw LocalErrors.Translate(ex, Name, operation, key);
        }
    }

    internal string NewTemporaryPath()
    {
        Directory.CreateDirectory(_tempRoot);
        return Path.Combine(_tempRoot, Guid.NewGuid().ToString("N") + ".tmp");
    }

    internal void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
        {
            _logger.LogWarning(ex, "Could not remove the temporary file {Path}", path);
        }
    }

    /// <summary>
    /// Whether a put flushes the object's bytes to disk before it becomes visible
    /// (<see cref="LocalObjectStoreOptions.FlushToDisk"/>); a producer that hands a file to
    /// <see cref="MoveInAsync"/> can flush parts of it earlier, while it still writes, so less is left
    /// to flush then.
    /// </summary>
    public bool FlushToDisk => _options.FlushToDisk;

    internal RetryPolicy Calls => _calls;

    internal ObjectStoreException InvalidKey(StoreOperation operation, string? key, string problem) =>
        new(ObjectStoreErrorKind.InvalidKey, Name, operation, key, problem);

    private static string ETagOf(long size, DateTimeOffset modified) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{size:x}-{modified.UtcTicks:x}");

    private SafeFileHandle OpenForRead(string path, string key)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException || (ex is UnauthorizedAccessException && Directory.Exists(path)))
        {
            throw new ObjectStoreException(ObjectStoreErrorKind.NotFound, Name, StoreOperation.Get, key, "no object has this key", ex);
        }
        catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
        {
            throw LocalErrors.Translate(ex, Name, StoreOperation.Get, key);
        }
    }

    /// <summary>The key of an object standing where a folder of <paramref name="path"/> must be, if any.</summary>
    private string? FileBlockingFolders(string path)
    {
        for (var folder = Path.GetDirectoryName(path); folder is not null && folder.Length > RootPath.Length; folder = Path.GetDirectoryName(folder))
        {
            if (File.Exists(folder))
            {
                return folder[(RootPath.Length + 1)..].Replace(Path.DirectorySeparatorChar, '/');
            }
        }

        return null;
    }

    private void PruneEmptyFolders(string folder)
    {
        // Keeps the tree from filling with empty folders; a concurrent writer re-creates what it needs.
        while (folder.Length > RootPath.Length && folder.StartsWith(RootPath, StringComparison.Ordinal))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    return;
                }

                Directory.Delete(folder);
            }
            catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
            {
                return;
            }

            folder = Path.GetDirectoryName(folder)!;
        }
    }

    private Queue<Entry> ReadFolder(string folder, string keyPrefix, string namePrefix, string listedPrefix)
    {
        var started = Stopwatch.GetTimestamp();
        var entries = new List<Entry>();
        try
        {
            var info = new DirectoryInfo(folder);
            if (info.Exists)
            {
                foreach (var item in info.EnumerateFileSystemInfos())
                {
                    if (!item.Name.StartsWith(namePrefix, StringComparison.Ordinal) ||
                        (keyPrefix.Length == 0 && item.Name == TemporaryFolderName))
                    {
                        continue;
                    }

                    if (item is DirectoryInfo)
                    {
                        entries.Add(new Entry(item.Name, true, 0, default));
                    }
                    else if (item is FileInfo file)
                    {
                        entries.Add(new Entry(item.Name, false, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero)));
                    }
                }
            }
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException)
        {
            // Deleted while listing: its objects are gone, which a listing may show.
        }
        catch (Exception ex) when (LocalErrors.IsFileSystemFailure(ex))
        {
            ObjectStoreMetrics.RecordRequest(Name, StoreOperation.List, ObjectStoreMetrics.Failed, started);
            throw LocalErrors.Translate(ex, Name, StoreOperation.List, listedPrefix);
        }

        ObjectStoreMetrics.RecordRequest(Name, StoreOperation.List, ObjectStoreMetrics.Success, started);
        entries.Sort(static (a, b) => Utf8KeyComparer.Instance.Compare(a.SortName, b.SortName));
        return new Queue<Entry>(entries);
    }

    private readonly record struct Entry(string Name, bool IsFolder, long Size, DateTimeOffset LastModified)
    {
        public string SortName => IsFolder ? Name + "/" : Name;
    }
}
