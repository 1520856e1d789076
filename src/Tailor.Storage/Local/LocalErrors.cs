namespace Tailor.Storage;

/// <summary>Classifies file system exceptions of the local store.</summary>
internal static class LocalErrors
{
    // errno values Linux reports in IOException.HResult.
    private const int ENOSPC = 28;
    private const int EDQUOT = 122;
    private const int EEXIST = 17;
    private const int ENOTDIR = 20;
    private const int EISDIR = 21;
    private const int ENOTEMPTY = 39;
    private const int ENAMETOOLONG = 36;
    private const int EROFS = 30;
    private const int EACCES = 13;

    /// <summary>Whether <paramref name="exception"/> is a file system failure this store reports as <see cref="ObjectStoreException"/>.</summary>
    public static bool IsFileSystemFailure(Exception exception) => exception is IOException or UnauthorizedAccessException;

    public static ObjectStoreException Translate(Exception exception, string store, StoreOperation operation, string? key)
    {
        var kind = exception switch
        {
            FileNotFoundException or DirectoryNotFoundException => ObjectStoreErrorKind.NotFound,
            UnauthorizedAccessException => ObjectStoreErrorKind.AccessDenied,
            PathTooLongException => ObjectStoreErrorKind.InvalidKey,
            IOException io => io.HResult switch
            {
                ENOSPC or EDQUOT => ObjectStoreErrorKind.StorageFull,
                EEXIST or ENOTDIR or EISDIR or ENOTEMPTY => ObjectStoreErrorKind.Conflict,
                ENAMETOOLONG => ObjectStoreErrorKind.InvalidKey,
                EROFS or EACCES => ObjectStoreErrorKind.AccessDenied,
                _ => ObjectStoreErrorKind.Unknown,
            },
            _ => ObjectStoreErrorKind.Unknown,
        };
        var cause = kind == ObjectStoreErrorKind.StorageFull
            ? $"the disk is full ({exception.Message}); nothing partial was left"
            : exception.Message;
        return new ObjectStoreException(kind, store, operation, key, cause, exception);
    }
}
