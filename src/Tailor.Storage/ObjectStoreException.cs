using System.Globalization;

namespace Tailor.Storage;

/// <summary>Why an object store call failed, as far as a caller needs to know to react.</summary>
public enum ObjectStoreErrorKind
{
    /// <summary>A failure the store could not classify; the inner exception has the details.</summary>
    Unknown = 0,

    /// <summary>The object (or multipart upload) does not exist.</summary>
    NotFound,

    /// <summary>The key is not acceptable: empty, too long, or it could name something outside the store.</summary>
    InvalidKey,

    /// <summary>The credentials were refused or lack a permission.</summary>
    AccessDenied,

    /// <summary>The bucket (or the local store's root folder) does not exist.</summary>
    BucketNotFound,

    /// <summary>The store's endpoint could not be reached: refused connection, unknown host.</summary>
    Unreachable,

    /// <summary>The store has no room for the object; nothing partial was left behind.</summary>
    StorageFull,

    /// <summary>
    /// The write collides with existing state: a precondition failed, a key is also used as a folder
    /// by a local store, or an object changed while it was being read.
    /// </summary>
    Conflict,

    /// <summary>
    /// A failure that may pass: throttling (503 Slow Down, 429), a server error (500, 502, 503, 504),
    /// a timeout or a reset connection. When <see cref="ObjectStoreException.Attempts"/> is above one,
    /// the retry budget was spent on it.
    /// </summary>
    Transient,

    /// <summary>The store refused the request as malformed or unsupported (a part too small, too many parts, a method it does not implement).</summary>
    InvalidRequest,
}

/// <summary>
/// The one exception every <see cref="IObjectStore"/> throws for a failed call. Its message names the
/// store (<see cref="IObjectStore.Name"/>, which never contains credentials), the operation, the key and
/// the last cause.
/// </summary>
/// <remarks>
/// Cancellation is not reported through this type: a call cancelled by its caller's token throws
/// <see cref="OperationCanceledException"/>. Misuse (a negative offset, a disposed store) throws the
/// usual argument and state exceptions.
/// </remarks>
public sealed class ObjectStoreException : Exception
{
    /// <summary>Creates an exception of kind <see cref="ObjectStoreErrorKind.Unknown"/>.</summary>
    public ObjectStoreException()
        : this("The object store call failed.")
    {
    }

    /// <summary>Creates an exception of kind <see cref="ObjectStoreErrorKind.Unknown"/> with a message.</summary>
    /// <param name="message">The message.</param>
    public ObjectStoreException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates an exception of kind <see cref="ObjectStoreErrorKind.Unknown"/> with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ObjectStoreException(string message, Exception? innerException)
        : base(message, innerException)
    {
        StoreName = string.Empty;
        Cause = message;
    }

    /// <summary>Creates a classified failure of one call.</summary>
    /// <param name="kind">What went wrong.</param>
    /// <param name="storeName">The store's <see cref="IObjectStore.Name"/>.</param>
    /// <param name="operation">The request that failed.</param>
    /// <param name="key">The key involved, or <see langword="null"/> (a listing names its prefix here).</param>
    /// <param name="cause">A one-line description of the cause, e.g. <c>HTTP 503 SlowDown: Please reduce your request rate.</c></param>
    /// <param name="innerException">The exception that reported the cause, if any.</param>
    /// <param name="isRetryable">Whether repeating the call may succeed and no retry loop has given up on it yet.</param>
    /// <param name="attempts">How many attempts were made (1 for a failure seen once).</param>
    /// <param name="elapsed">How long all attempts took together, if measured.</param>
    /// <param name="statusCode">The HTTP status code the store answered with, if any.</param>
    /// <param name="errorCode">The store's error code (e.g. <c>SlowDown</c>, <c>NoSuchBucket</c>), if any.</param>
    public ObjectStoreException(
        ObjectStoreErrorKind kind,
        string storeName,
        StoreOperation operation,
        string? key,
        string cause,
        Exception? innerException = null,
        bool isRetryable = false,
        int attempts = 1,
        TimeSpan? elapsed = null,
        int? statusCode = null,
        string? errorCode = null)
        : base(FormatMessage(kind, storeName, operation, key, cause, attempts, elapsed), innerException)
    {
        Kind = kind;
        StoreName = storeName;
        Operation = operation;
        Key = key;
        Cause = cause;
        IsRetryable = isRetryable;
        Attempts = attempts;
        Elapsed = elapsed;
        StatusCode = statusCode;
        ErrorCode = errorCode;
    }

    /// <summary>What went wrong.</summary>
    public ObjectStoreErrorKind Kind { get; }

    /// <summary>The failing store's <see cref="IObjectStore.Name"/>: its URI without credentials.</summary>
    public string StoreName { get; }

    /// <summary>The request that failed (the last one, when a call makes several).</summary>
    public StoreOperation Operation { get; }

    /// <summary>The key involved, or <see langword="null"/>.</summary>
    public string? Key { get; }

    /// <summary>A one-line description of the last cause.</summary>
    public string Cause { get; }

    /// <summary>
    /// <see langword="true"/> when repeating the call may succeed and no retry loop has spent its budget
    /// on it yet. A <see cref="RetryPolicy"/> retries exactly these failures and
    /// clears the flag on the exception it throws when it gives up, so nested retry loops never
    /// multiply each other's attempts.
    /// </summary>
    public bool IsRetryable { get; }

    /// <summary>How many attempts were made before this failure was reported.</summary>
    public int Attempts { get; }

    /// <summary>How long the attempts took together, when a retry loop measured it.</summary>
    public TimeSpan? Elapsed { get; }

    /// <summary>The HTTP status code of the store's answer, if there was one.</summary>
    public int? StatusCode { get; }

    /// <summary>The store's own error code (S3: <c>SlowDown</c>, <c>NoSuchKey</c>, ...), if any.</summary>
    public string? ErrorCode { get; }

    /// <summary>A copy of this failure that records the attempts a retry loop made and is no longer retryable.</summary>
    internal ObjectStoreException AfterAttempts(int attempts, TimeSpan elapsed) =>
        new(Kind, StoreName, Operation, Key, Cause, this, isRetryable: false, attempts, elapsed, StatusCode, ErrorCode);

    private static string FormatMessage(
        ObjectStoreErrorKind kind, string storeName, StoreOperation operation, string? key, string cause, int attempts, TimeSpan? elapsed)
    {
        var target = key is null ? string.Empty : $" of key '{key}'";
        var tries = attempts > 1
            ? string.Create(CultureInfo.InvariantCulture, $" after {attempts} attempts in {(elapsed ?? TimeSpan.Zero).TotalSeconds:0.0#} s")
            : string.Empty;
        return $"Object store '{storeName}': {operation.ToTagValue()}{target} failed{tries} ({kind}): {cause}";
    }
}
