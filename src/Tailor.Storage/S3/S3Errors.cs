using System.Net.Sockets;
using Amazon.Runtime;

namespace Tailor.Storage;

/// <summary>Classifies what the AWS SDK throws into <see cref="ObjectStoreException"/>s.</summary>
internal static class S3Errors
{
    /// <summary>The error code of a body that did not match its checksum.</summary>
    public const string ChecksumMismatch = "ChecksumMismatch";

    /// <summary>Whether <paramref name="exception"/> is a store failure to translate (cancellation and misuse pass through).</summary>
    public static bool IsStoreFailure(Exception exception) =>
        exception is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or SocketException or TimeoutException;

    public static ObjectStoreException Translate(Exception exception, string store, StoreOperation operation, string? key)
    {
        if (Find<AmazonServiceException>(exception) is { StatusCode: > 0 } service)
        {
            return FromAnswer(service, store, operation, key);
        }

        if (Find<HttpRequestException>(exception) is { } http)
        {
            var socket = Find<SocketException>(http);
            return http.HttpRequestError == HttpRequestError.NameResolutionError ||
                socket?.SocketErrorCode is SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.HostUnreachable
                    or SocketError.NetworkUnreachable or SocketError.TryAgain or SocketError.NoData
                ? TransientFailures.Unreachable(store, operation, key, http)
                : TransientFailures.ConnectionReset(store, operation, key, http);
        }

        if (Find<TimeoutException>(exception) is { } timeout)
        {
            return TransientFailures.Timeout(store, operation, key, TimeSpan.Zero, timeout);
        }

        if (Find<IOException>(exception) is { } io)
        {
            return TransientFailures.ConnectionReset(store, operation, key, io);
        }

        if (Find<SocketException>(exception) is { } broken)
        {
            return TransientFailures.ConnectionReset(store, operation, key, broken);
        }

        if (exception is AmazonClientException && exception.Message.Contains("hash", StringComparison.OrdinalIgnoreCase))
        {
            // The SDK checked a body against its checksum and it did not match: a corrupted transfer.
            return new ObjectStoreException(
                ObjectStoreErrorKind.Transient, store, operation, key,
                $"the data received did not match its checksum ({exception.Message})", exception, isRetryable: true, errorCode: ChecksumMismatch);
        }

        // The SDK's own failures without an answer: most often credentials that could not be resolved.
        var kind = exception.Message.Contains("credential", StringComparison.OrdinalIgnoreCase)
            ? ObjectStoreErrorKind.AccessDenied
            : ObjectStoreErrorKind.Unknown;
        return new ObjectStoreException(kind, store, operation, key, exception.Message, exception);
    }

    private static ObjectStoreException FromAnswer(AmazonServiceException answer, string store, StoreOperation operation, string? key)
    {
        var status = (int)answer.StatusCode;
        var code = string.IsNullOrEmpty(answer.ErrorCode) ? null : answer.ErrorCode;
        ObjectStoreErrorKind? kind = code switch
        {
            "NoSuchBucket" => ObjectStoreErrorKind.BucketNotFound,
            "NoSuchKey" or "NoSuchUpload" => ObjectStoreErrorKind.NotFound,
            "AccessDenied" or "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "ExpiredToken" or "InvalidToken"
                or "AllAccessDisabled" or "AccountProblem" => ObjectStoreErrorKind.AccessDenied,
            "PreconditionFailed" => ObjectStoreErrorKind.Conflict,
            "KeyTooLongError" => ObjectStoreErrorKind.InvalidKey,
            "SlowDown" or "Throttling" or "ThrottlingException" or "RequestLimitExceeded" or "TooManyRequests" or "RequestThrottled"
                or "ServiceUnavailable" or "InternalError" or "RequestTimeout" or "RequestTimeoutException" or "PriorRequestNotComplete"
                or "BandwidthLimitExceeded" or "ConditionalRequestConflict" or "OperationAborted" => ObjectStoreErrorKind.Transient,
            _ => null,
        };
        kind ??= status switch
        {
            404 => ObjectStoreErrorKind.NotFound,
            401 or 403 => ObjectStoreErrorKind.AccessDenied,
            412 => ObjectStoreErrorKind.Conflict,
            409 or 429 or >= 500 and not (501 or 505 or 507) => ObjectStoreErrorKind.Transient,
            507 => ObjectStoreErrorKind.StorageFull,
            _ => ObjectStoreErrorKind.InvalidRequest,
        };

        var message = string.IsNullOrEmpty(answer.Message) ? null : answer.Message;
        if (kind == ObjectStoreErrorKind.Transient)
        {
            return TransientFailures.ServerAnswer(store, operation, key, status, code, message, answer);
        }

        var cause = $"HTTP {status} {code ?? "error"}: {message ?? "no message"}";
        if (kind == ObjectStoreErrorKind.BucketNotFound)
        {
            cause += " (the bucket does not exist)";
        }

        return new ObjectStoreException(kind.Value, store, operation, key, cause, answer, statusCode: status, errorCode: code);
    }

    private static T? Find<T>(Exception? exception)
        where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T match)
            {
                return match;
            }
        }

        return null;
    }
}
