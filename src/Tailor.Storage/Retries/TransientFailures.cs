using System.Net.Sockets;

namespace Tailor.Storage;

/// <summary>
/// The one place transient failures are built, so a failure a real store reports and one the
/// <see cref="FaultInjectingObjectStore"/> invents carry the same kind, codes, flags and wording.
/// </summary>
internal static class TransientFailures
{
    /// <summary>An HTTP error answer that is worth repeating: throttling (429, 503 Slow Down) or a server error (500, 502, 503, 504).</summary>
    public static ObjectStoreException ServerAnswer(
        string store, StoreOperation operation, string? key, int statusCode, string? errorCode, string? message, Exception? inner) =>
        new(ObjectStoreErrorKind.Transient, store, operation, key,
            $"HTTP {statusCode} {errorCode ?? "error"}: {message ?? "no message"}", inner,
            isRetryable: true, statusCode: statusCode, errorCode: errorCode ?? $"HTTP{statusCode}");

    /// <summary>A connection that broke mid-request.</summary>
    public static ObjectStoreException ConnectionReset(string store, StoreOperation operation, string? key, Exception inner) =>
        new(ObjectStoreErrorKind.Transient, store, operation, key,
            $"the connection was reset ({Innermost(inner).Message})", inner, isRetryable: true, errorCode: "ConnectionReset");

    /// <summary>A request that got no answer in time.</summary>
    public static ObjectStoreException Timeout(string store, StoreOperation operation, string? key, TimeSpan limit, Exception? inner) =>
        new(ObjectStoreErrorKind.Transient, store, operation, key,
            $"no answer within {limit.TotalSeconds:0.#} s (timeout)", inner, isRetryable: true, errorCode: "Timeout");

    /// <summary>An endpoint that refused the connection or could not be resolved; retried, since a server may be restarting.</summary>
    public static ObjectStoreException Unreachable(string store, StoreOperation operation, string? key, Exception inner) =>
        new(ObjectStoreErrorKind.Unreachable, store, operation, key,
            $"the endpoint is unreachable ({Innermost(inner).Message})", inner, isRetryable: true, errorCode: "Unreachable");

    /// <summary>The exception a real socket reset raises, for injected resets.</summary>
    public static Exception SimulatedReset() =>
        new IOException("Unable to read data from the transport connection: Connection reset by peer.", new SocketException((int)SocketError.ConnectionReset));

    private static Exception Innermost(Exception exception)
    {
        while (exception.InnerException is not null)
        {
            exception = exception.InnerException;
        }

        return exception;
    }
}
