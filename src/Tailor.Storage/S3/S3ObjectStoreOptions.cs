using Amazon.Runtime;
using Microsoft.Extensions.Logging;

namespace Tailor.Storage;

/// <summary>Options of an <see cref="S3ObjectStore"/>.</summary>
public sealed class S3ObjectStoreOptions
{
    /// <summary>
    /// The endpoint of an S3-compatible server (e.g. <c>http://127.0.0.1:9000</c>); <see langword="null"/>
    /// (default) talks to AWS S3 in <see cref="Region"/>.
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The region requests are signed for (and, without <see cref="Endpoint"/>, the region's endpoint). Default <c>us-east-1</c>.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Address buckets as <c>endpoint/bucket/key</c> rather than <c>bucket.endpoint/key</c>. Default <see langword="null"/>: path style exactly when <see cref="Endpoint"/> is set.</summary>
    public bool? ForcePathStyle { get; set; }

    /// <summary>Credentials; <see langword="null"/> (default) resolves them from the AWS standard chain (environment, profile, container or instance role).</summary>
    public AWSCredentials? Credentials { get; set; }

    /// <summary>
    /// Whether the server honours <c>If-None-Match: *</c> on put, making <see cref="IObjectStore.TryCreateAsync"/>
    /// atomic (<see cref="StoreCapabilities.ConditionalCreate"/>). Default <see langword="null"/>: honoured on
    /// AWS S3 (no <see cref="Endpoint"/>), not assumed for other servers (s3rver ignores it). When not
    /// honoured, a create first checks that the key is free, and still sends the header.
    /// </summary>
    public bool? ConditionalCreate { get; set; }

    /// <summary>
    /// Whether request bodies are covered by the SigV4 signature, which costs a SHA-256 pass over every
    /// body (3 ms per 5 MiB part with the CPU's SHA instructions, 10 ms without). Every put and part also
    /// carries a CRC-32 checksum (<c>x-amz-checksum-crc32</c>) that S3 verifies, signed or not. Default
    /// <see langword="null"/>: not signed on AWS S3 (no <see cref="Endpoint"/>), where requests go over
    /// HTTPS and TLS plus the checksum guard the bytes (<c>UNSIGNED-PAYLOAD</c>); signed for other
    /// servers, which may not verify the checksum. Unsigned bodies need an <c>https</c> endpoint.
    /// </summary>
    public bool? SignPayloads { get; set; }

    /// <summary>Keys requested per listing page, 1 to 1,000. Default 1,000 (the S3 maximum).</summary>
    public int ListPageSize { get; set; } = 1000;

    /// <summary>The retry budget of every request. The AWS SDK's own retries are turned off, so every attempt is counted here. Default: the defaults of <see cref="RetryOptions"/>.</summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>How streamed uploads are cut into parts. Default: 5 MiB parts, 4 in flight.</summary>
    public MultipartOptions Multipart { get; set; } = new();

    /// <summary>Where warnings (an abort that failed) go. Default: nowhere.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>Builds the SDK's HTTP clients; <see langword="null"/> (default) keeps the SDK's own. For tests that look at the requests.</summary>
    internal HttpClientFactory? HttpClientFactory { get; set; }

    internal S3ObjectStoreOptions Validated()
    {
        if (ListPageSize is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(ListPageSize), ListPageSize, "S3 pages hold 1 to 1,000 keys.");
        }

        ArgumentException.ThrowIfNullOrEmpty(Region);
        if (SignPayloads == false && Endpoint is { } endpoint && endpoint.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"Unsigned request bodies need an https endpoint, not {endpoint.Scheme}: leave {nameof(SignPayloads)} unset or true.", nameof(SignPayloads));
        }

        ArgumentNullException.ThrowIfNull(Retry);
        ArgumentNullException.ThrowIfNull(Multipart);
        Retry.Validated();
        Multipart.Validated();
        return this;
    }
}
