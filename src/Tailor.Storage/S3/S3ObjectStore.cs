using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using Amazon;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tailor.Storage;

/// <summary>
/// An object store in an S3 bucket, optionally under a prefix (<c>s3://bucket/prefix</c>), on AWS or on
/// any S3-compatible server (path-style addressing and a custom endpoint).
/// </summary>
/// <remarks>
/// <para>
/// Every request runs through a <see cref="RetryPolicy"/> (the AWS SDK's own retries, stale-connection
/// retries included, are off, so every attempt is ours to count and bound) and is counted on the <c>Tailor.Storage</c> meter. Bodies are sent
/// without <c>aws-chunked</c> framing, which some S3-compatible servers store as if it were the object,
/// and always with a CRC-32 checksum the server verifies; on AWS S3 (HTTPS) they are not also hashed
/// with SHA-256 for the signature (<see cref="S3ObjectStoreOptions.SignPayloads"/>).
/// </para>
/// <para>
/// Streamed uploads send 5 MiB parts (by default) with up to 4 in flight from pooled buffers, start the
/// multipart upload only when a second part begins (smaller objects are one put), and abort on failure,
/// cancellation or dispose. Read streams resume after a broken connection from where they stopped,
/// pinned to the ETag they started with. Owns its S3 client and disposes it.
/// </para>
/// </remarks>
public sealed class S3ObjectStore : IObjectStore, IMultipartProtocol
{
    private readonly AmazonS3Client _client;
    private readonly S3ObjectStoreOptions _options;
    private readonly RetryPolicy _retry;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly bool _conditionalCreate;
    private readonly bool _unsignedPayloads;
    private readonly RawRequests _raw;
    private volatile bool _bucketConfirmed;

    /// <summary>Opens a store on a bucket.</summary>
    /// <param name="bucket">The bucket's name.</param>
    /// <param name="prefix">A key prefix the store lives under (e.g. <c>tailor/prod</c>); <see langword="null"/> or empty for the whole bucket.</param>
    /// <param name="options">Options; <see langword="null"/> takes the defaults. Not copied: do not change it afterwards.</param>
    /// <exception cref="ArgumentException">The bucket name or the prefix is not acceptable.</exception>
    public S3ObjectStore(string bucket, string? prefix = null, S3ObjectStoreOptions? options = null)
    {
        if (!IsValidBucketName(bucket))
        {
            throw new ArgumentException($"'{bucket}' is not a valid S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens).", nameof(bucket));
        }

        prefix = (prefix ?? string.Empty).Trim('/');
        if (prefix.Length > 0 && ObjectKeyRules.Check(prefix) is { } problem)
        {
            throw new ArgumentException($"The prefix '{prefix}' is not acceptable: {problem}.", nameof(prefix));
        }

        _options = (options ?? new S3ObjectStoreOptions()).Validated();
        Bucket = bucket;
        Prefix = prefix;
        _prefix = prefix.Length == 0 ? string.Empty : prefix + "/";
        Name = FormatName(bucket, prefix, _options.Endpoint);
        _retry = new RetryPolicy(Name, _options.Retry);
        _logger = _options.Logger ?? NullLogger.Instance;
        _conditionalCreate = _options.ConditionalCreate ?? _options.Endpoint is null;
        _unsignedPayloads = !(_options.SignPayloads ?? _options.Endpoint is not null);
        _raw = new RawRequests(this);

        var config = new AmazonS3Config
        {
            ForcePathStyle = _options.ForcePathStyle ?? _options.Endpoint is not null,

            // Our RetryPolicy retries, with full jitter and a total budget, and counts every attempt. The
            // SDK would otherwise also repeat any "connection reset" up to 10 times outside MaxErrorRetry,
            // unseen by the budget and the counters.
            MaxErrorRetry = 0,
            MaxStaleConnectionRetries = 0,
        };
        if (_options.Retry.AttemptTimeout != Timeout.InfiniteTimeSpan)
        {
            config.Timeout = _options.Retry.AttemptTimeout;
        }

        if (_options.HttpClientFactory is { } factory)
        {
            config.HttpClientFactory = factory;
        }

        if (_options.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.AbsoluteUri;
            config.AuthenticationRegion = _options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(_options.Region);
        }

        _client = _options.Credentials is { } credentials ? new AmazonS3Client(credentials, config) : new AmazonS3Client(config);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The bucket.</summary>
    public string Bucket { get; }

    /// <summary>The prefix the store lives under, without slashes at either end; empty for the whole bucket.</summary>
    public string Prefix { get; }

    /// <inheritdoc/>
    public StoreCapabilities Capabilities => _conditionalCreate ? StoreCapabilities.ConditionalCreate : StoreCapabilities.None;

    /// <summary>The retry policy every request runs through.</summary>
    public RetryPolicy Policy => _retry;

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (ObjectKeyRules.CheckPrefix(prefix) is { } problem)
        {
            throw InvalidKey(StoreOperation.List, prefix, problem);
        }

        string? continuation = null;
        do
        {
            var page = await _retry.ExecuteAsync(
                StoreOperation.List, prefix, (this, prefix, continuation),
                static (s, _, ct) => s.Item1.ListPageAsync(s.prefix, s.continuation, ct),
                cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            continuation = page.Continuation;
        }
        while (continuation is not null);
    }

    /// <inheritdoc/>
    public Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckKey(StoreOperation.Head, key);
        return _retry.ExecuteAsync(StoreOperation.Head, key, (this, key), static (s, _, ct) => s.Item1.HeadAsync(s.key, ct), cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        CheckKey(StoreOperation.Get, key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "The length must not be negative.");
        }

        if (length == 0)
        {
            // Nothing to read, but a missing key must still be reported.
            _ = await GetInfoAsync(key, cancellationToken).ConfigureAwait(false)
                ?? throw NotFound(StoreOperation.Get, key);
            return Stream.Null;
        }

        var end = length is { } n ? offset + n : long.MaxValue;
        var body = await _retry.ExecuteAsync(
            StoreOperation.Get, key, (this, key, offset, end),
            static (s, _, ct) => s.Item1.GetAsync(s.key, s.offset, s.end, null, ct),
            cancellationToken).ConfigureAwait(false);
        return body.Response is null ? Stream.Null : new ResumingReadStream(this, key, body, offset);
    }

    /// <inheritdoc/>
    public Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        CheckKey(StoreOperation.Get, key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return _retry.ExecuteAsync(StoreOperation.Get, key, (this, key, offset, destination), static (s, _, ct) => s.Item1.ReadRangeAsync(s.key, s.offset, s.destination, ct), cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        CheckKey(StoreOperation.Put, key);
        return _retry.ExecuteAsync(
            StoreOperation.Put, key, (this, key, content),
            static (s, _, ct) => s.Item1.PutCoreAsync(StoreOperation.Put, s.key, new ReadOnlySequence<byte>(s.content), ifNoneMatch: false, ct),
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        CheckKey(StoreOperation.Create, key);
        return _retry.ExecuteAsync(StoreOperation.Create, key, (this, key, content), static (s, attempt, ct) => s.Item1.CreateAttemptAsync(s.key, s.content, attempt, ct), cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IMultipartUpload> StartUploadAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckKey(StoreOperation.InitiateUpload, key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IMultipartUpload>(new PartedUpload(key, _raw, _retry, _options.Multipart, _logger));
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckKey(StoreOperation.Delete, key);
        return _retry.ExecuteAsync(StoreOperation.Delete, key, (this, key), static async (s, _, ct) =>
        {
            try
            {
                await s.Item1._client.DeleteObjectAsync(s.Item1.Bucket, s.Item1.FullKey(s.key), ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (S3Errors.IsStoreFailure(ex))
            {
                throw s.Item1.Translate(ex, StoreOperation.Delete, s.key);
            }
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<string> InitiateUploadAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckKey(StoreOperation.InitiateUpload, key);
        return _retry.ExecuteAsync(StoreOperation.InitiateUpload, key, (this, key), static (s, _, ct) => s.Item1._raw.InitiateUploadAsync(s.key, ct), cancellationToken);
    }

    /// <inheritdoc/>
    public Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlySequence<byte> data, CancellationToken cancellationToken = default)
    {
        CheckKey(StoreOperation.UploadPart, key);
        return _retry.ExecuteAsync(
            StoreOperation.UploadPart, key, (this, key, uploadId, partNumber, data),
            static (s, _, ct) => s.Item1._raw.UploadPartAsync(s.key, s.uploadId, s.partNumber, s.data, ct),
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ObjectInfo> CompleteUploadAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default)
    {
        CheckKey(StoreOperation.CompleteUpload, key);
        return _retry.ExecuteAsync(
            StoreOperation.CompleteUpload, key, (this, key, uploadId, parts),
            static (s, _, ct) => s.Item1._raw.CompleteUploadAsync(s.key, s.uploadId, s.parts, ct),
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken = default)
    {
        CheckKey(StoreOperation.AbortUpload, key);
        return _retry.ExecuteAsync(StoreOperation.AbortUpload, key, (this, key, uploadId), static (s, _, ct) => s.Item1._raw.AbortUploadAsync(s.key, s.uploadId, ct), cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>One GET attempt of [offset, end): the response (<see langword="null"/> when the range is empty) and the range it covers.</summary>
    internal async Task<RangeBody> GetAsync(string key, long offset, long end, string? ifMatch, CancellationToken cancellationToken)
    {
        var request = new GetObjectRequest { BucketName = Bucket, Key = FullKey(key) };
        if (offset > 0 || end != long.MaxValue)
        {
            request.ByteRange = end == long.MaxValue ? new ByteRange($"bytes={offset}-") : new ByteRange(offset, end - 1);
        }

        if (ifMatch is not null)
        {
            request.EtagToMatch = Quote(ifMatch);
        }

        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when ((int)ex.StatusCode == 416)
        {
            // The range starts at or past the end: an existing object with nothing to read there.
            return new RangeBody(null, offset, offset, ifMatch);
        }
        catch (AmazonS3Exception ex) when (ifMatch is not null && (int)ex.StatusCode == 412)
        {
            throw new ObjectStoreException(
                ObjectStoreErrorKind.Conflict, Name, StoreOperation.Get, key,
                "the object was replaced while it was being read", ex, statusCode: 412, errorCode: ex.ErrorCode);
        }
        catch (Exception ex) when (S3Errors.IsStoreFailure(ex))
        {
            throw Translate(ex, StoreOperation.Get, key);
        }

        if (request.ByteRange is not null && response.ContentRange is null && response.HttpStatusCode == System.Net.HttpStatusCode.OK)
        {
            response.Dispose();
            throw new ObjectStoreException(
                ObjectStoreErrorKind.InvalidRequest, Name, StoreOperation.Get, key, "the server ignored the Range header and sent the whole object");
        }

        // Never hand out more than the object holds: Content-Range's total is the authority (a server
        // asked for a range of an empty object may announce a byte it does not send).
        var total = TotalFromContentRange(response.ContentRange) ?? (request.ByteRange is null ? response.ContentLength : (long?)null);
        var available = Math.Min(end, total ?? offset + response.ContentLength);
        if (available <= offset)
        {
            response.Dispose();
            return new RangeBody(null, offset, offset, ifMatch);
        }

        return new RangeBody(response, offset, available, Unquote(response.ETag));
    }

    /// <summary>
    /// The CRC-32 of a body in the form S3 takes it (<c>x-amz-checksum-crc32</c>: the big-endian value in
    /// base64), computed here over the buffers themselves so that it is always sent, whatever the SDK's
    /// configuration (<c>AWS_REQUEST_CHECKSUM_CALCULATION=when_required</c> would drop its own), and sent
    /// as a header: the SDK would otherwise move it to an <c>aws-chunked</c> trailer on unsigned bodies,
    /// a framing some S3-compatible servers store as if it were the object.
    /// </summary>
    private static string Crc32Of(ReadOnlySequence<byte> body)
    {
        var crc = new Crc32();
        foreach (var segment in body)
        {
            crc.Append(segment.Span);
        }

        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(value, crc.GetCurrentHashAsUInt32());
        return Convert.ToBase64String(value);
    }

    private static bool IsValidBucketName(string bucket) =>
        bucket is { Length: >= 3 and <= 63 } &&
        bucket.All(static c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-') &&
        char.IsAsciiLetterOrDigit(bucket[0]) && char.IsAsciiLetterOrDigit(bucket[^1]);

    private static string FormatName(string bucket, string prefix, Uri? endpoint)
    {
        var name = prefix.Length == 0 ? $"s3://{bucket}" : $"s3://{bucket}/{prefix}";
        if (endpoint is null)
        {
            return name;
        }

        // The endpoint without user info, query or fragment: names go to logs, secrets must not.
        var clean = new UriBuilder(endpoint) { UserName = string.Empty, Password = string.Empty, Query = string.Empty, Fragment = string.Empty }.Uri;
        return $"{name}?endpoint={clean.GetLeftPart(UriPartial.Authority)}{clean.AbsolutePath.TrimEnd('/')}";
    }

    private static long? TotalFromContentRange(string? contentRange)
    {
        // "bytes 0-99/1234"
        var slash = contentRange?.LastIndexOf('/') ?? -1;
        return slash >= 0 && long.TryParse(contentRange.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var total) ? total : null;
    }

    private static string? Unquote(string? etag) => etag?.Trim('"');

    private static string Quote(string etag) => $"\"{etag}\"";

    private static DateTimeOffset ToOffset(DateTime? time) =>
        time is { } t ? new DateTimeOffset(t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.UtcNow;

    private string FullKey(string key) => _prefix.Length == 0 ? key : _prefix + key;

    private void CheckKey(StoreOperation operation, string key)
    {
        if (ObjectKeyRules.Check(key) is { } problem)
        {
            throw InvalidKey(operation, key, problem);
        }

        if (System.Text.Encoding.UTF8.GetByteCount(key) + _prefix.Length > ObjectKeyRules.MaxKeyBytes)
        {
            throw InvalidKey(operation, key, $"the key with the store's prefix is longer than {ObjectKeyRules.MaxKeyBytes} UTF-8 bytes");
        }
    }

    private ObjectStoreException InvalidKey(StoreOperation operation, string key, string problem) =>
        new(ObjectStoreErrorKind.InvalidKey, Name, operation, key, problem);

    private ObjectStoreException NotFound(StoreOperation operation, string key) =>
        new(ObjectStoreErrorKind.NotFound, Name, operation, key, "no object has this key", errorCode: "NoSuchKey", statusCode: 404);

    private ObjectStoreException Translate(Exception exception, StoreOperation operation, string? key) =>
        S3Errors.Translate(exception, Name, operation, key);

    private async Task<(List<ObjectInfo> Items, string? Continuation)> ListPageAsync(string prefix, string? continuation, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.ListObjectsV2Async(
                new ListObjectsV2Request
                {
                    BucketName = Bucket,
                    Prefix = FullKey(prefix),
                    MaxKeys = _options.ListPageSize,
                    ContinuationToken = continuation,
                },
                cancellationToken).ConfigureAwait(false);
            var objects = response.S3Objects ?? [];
            var items = new List<ObjectInfo>(objects.Count);
            foreach (var item in objects)
            {
                items.Add(new ObjectInfo(item.Key[_prefix.Length..], item.Size ?? 0, Unquote(item.ETag), ToOffset(item.LastModified)));
            }

            _bucketConfirmed = true;
            var next = response.IsTruncated == true && !string.IsNullOrEmpty(response.NextContinuationToken) ? response.NextContinuationToken : null;
            return (items, next);
        }
        catch (Exception ex) when (S3Errors.IsStoreFailure(ex))
        {
            throw Translate(ex, StoreOperation.List, prefix);
        }
    }

    private async Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectMetadataAsync(Bucket, FullKey(key), cancellationToken).ConfigureAwait(false);
            _bucketConfirmed = true;
            return new ObjectInfo(key, response.ContentLength, Unquote(response.ETag), ToOffset(response.LastModified));
        }
        catch (AmazonS3Exception ex) when ((int)ex.StatusCode == 404)
        {
            // A HEAD answer has no body, so a missing bucket looks like a missing key: check the bucket once.
            if (!_bucketConfirmed)
            {
                try
                {
                    await ListPageAsync(key, null, cancellationToken).ConfigureAwait(false);
                }
                catch (ObjectStoreException missing) when (missing.Kind == ObjectStoreErrorKind.BucketNotFound)
                {
                    throw new ObjectStoreException(
                        ObjectStoreErrorKind.BucketNotFound, Name, StoreOperation.Head, key, missing.Cause, missing,
                        statusCode: missing.StatusCode, errorCode: missing.ErrorCode);
                }
            }

            return null;
        }
        catch (Exception ex) when (S3Errors.IsStoreFailure(ex))
        {
            throw Translate(ex, StoreOperation.Head, key);
        }
    }

    private async Task<int> ReadRangeAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (destination.IsEmpty)
        {
            _ = await HeadAsync(key, cancellationToken).ConfigureAwait(false) ?? throw NotFound(StoreOperation.Get, key);
            return 0;
        }

        var body = await GetAsync(key, offset, offset + destination.Length, null, cancellationToken).ConfigureAwait(false);
        if (body.Response is null)
        {
            return 0;
        }

        using var response = body.Response;
        var want = (int)(body.End - body.Start);
        var total = 0;
        try
        {
            while (total < want)
            {
                var n = await response.ResponseStream.ReadAsync(destination[total..want], cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException($"The response ended after {total} of {want} bytes.");
                }

                total += n;
            }
        }
        catch (Exception ex) when (S3Errors.IsStoreFailure(ex))
        {
            throw Translate(ex, StoreOperation.Get, key);
        }

        return total;
    }

    private async Task<ObjectInfo> PutCoreAsync(StoreOperation operation, string key, ReadOnlySequence<byte> content, bool ifNoneMatch, CancellationToken cancellationToken)
    {
        using var body = new SequenceStream(content);
        var request = new PutObjectRequest
        {
            BucketName = Bucket,
            Key = FullKey(key),
            InputStream = body,
            AutoCloseStream = false,

            // aws-chunked framing over plain HTTP is stored verbatim by some S3-compatible servers.
            UseChunkEncoding = false,
            ChecksumAlgorithm = ChecksumAlgorithm.CRC32,
            ChecksumCRC32 = Crc32Of(content),
            DisablePayloadSigning = _unsignedPayloads,
        };
        request.Headers.ContentLength = content.Length;
        if (ifNoneMatch)
        {
            request.IfNoneMatch = "*";
        }

        try
        {
            var response = await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
            return new ObjectInfo(key, content.Length, Unquote(response.ETag), DateTimeOffset.UtcNow);
        }
        catch (Exception ex) when (S3Errors.IsStoreFailure(ex))
        {
            throw Translate(ex, operation, key);
        }
    }

    private async Task<bool> CreateAttemptAsync(string key, ReadOnlyMemory<byte> content, int attempt, CancellationToken cancellationToken)
    {
        if (!_conditionalCreate && await HeadAsync(key, cancellationToken).ConfigureAwait(false) is not null)
        {
            // The server may ignore If-None-Match, so an existing object is never put at all.
            return attempt > 1 && await HoldsAsync(key, content, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await PutCoreAsync(StoreOperation.Create, key, new ReadOnlySequence<byte>(content), ifNoneMatch: true, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ObjectStoreException ex) when (ex.StatusCode == 412)
        {
            return attempt > 1 && await HoldsAsync(key, content, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task<bool> HoldsAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        CreateConfirmation.HoldsAsync(HeadAsync, ReadRangeAsync, key, content, cancellationToken);

    /// <summary>A GET attempt's answer: the response (owned by the receiver) and the byte range [Start, End) it carries.</summary>
    internal readonly record struct RangeBody(GetObjectResponse? Response, long Start, long End, string? ETag);

    /// <summary>The single-attempt requests under <see cref="PartedUpload"/> (which retries them itself).</summary>
    private sealed class RawRequests(S3ObjectStore store) : IUploadTarget
    {
        public Task<ObjectInfo> PutAsync(string key, ReadOnlySequence<byte> content, CancellationToken cancellationToken) =>
            store.PutCoreAsync(StoreOperation.Put, key, content, ifNoneMatch: false, cancellationToken);

        public Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken) => store.HeadAsync(key, cancellationToken);

        public async Task<string> InitiateUploadAsync(string key, CancellationToken cancellationToken = default)
        {
            try
            {
                var response = await store._client.InitiateMultipartUploadAsync(
                    new InitiateMultipartUploadRequest { BucketName = store.Bucket, Key = store.FullKey(key) }, cancellationToken).ConfigureAwait(false);
                return response.UploadId;
            }
            catch (Exception ex) when (S3Errors.IsStoreFailure(ex))
            {
                throw store.Translate(ex, StoreOperation.InitiateUpload, key);
            }
        }

        public async Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, ReadOnlySequence<byte> data, CancellationToken cancellationToken = default)
        {
            using var body = new SequenceStream(data);
            try
            {
                var response = await store._client.UploadPartAsync(
                    new UploadPartRequest
                    {
                        BucketName = store.Bucket,
                        Key = store.FullKey(key),
                        UploadId = uploadId,
                        PartNumber = partNumber,
                        InputStream = body,
                        PartSize = data.Length,
                        UseChunkEncoding = false,
                        ChecksumAlgorithm = ChecksumAlgorithm.CRC32,
                        ChecksumCRC32 = Crc32Of(data),
                        DisablePayloadSigning = store._unsignedPayloads,
                    },
                    cancellationToken).ConfigureAwait(false);
                return new UploadedPart(partNumber, Unquote(response.ETag) ?? string.Empty, data.Length);
            }
            catch (Exception ex) when (S3Errors.IsStoreFailure(ex))
            {
                throw store.Translate(ex, StoreOperation.UploadPart, key);
            }
        }

        public async Task<ObjectInfo> CompleteUploadAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken cancellationToken = default)
        {
            var request = new CompleteMultipartUploadRequest { BucketName = store.Bucket, Key = store.FullKey(key), UploadId = uploadId, PartETags = [] };
            long size = 0;
            foreach (var part in parts)
            {
                request.PartETags.Add(new PartETag(part.PartNumber, Quote(part.ETag)));
                size += part.Size;
            }

            try
            {
                var response = await store._client.CompleteMultipartUploadAsync(request, cancellationToken).ConfigureAwait(false);
                return new ObjectInfo(key, size, Unquote(response.ETag), DateTimeOffset.UtcNow);
            }
            catch (Exception ex) when (S3Errors.IsStoreFailure(ex))
            {
                throw store.Translate(ex, StoreOperation.CompleteUpload, key);
            }
        }

        public async Task AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken = default)
        {
            try
            {
                await store._client.AbortMultipartUploadAsync(
                    new AbortMultipartUploadRequest { BucketName = store.Bucket, Key = store.FullKey(key), UploadId = uploadId }, cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchUpload")
            {
                // Already aborted or completed: nothing is left to discard.
            }
            catch (Exception ex) when (S3Errors.IsStoreFailure(ex))
            {
                throw store.Translate(ex, StoreOperation.AbortUpload, key);
            }
        }
    }
}
