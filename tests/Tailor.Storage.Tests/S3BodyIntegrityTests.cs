using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using static Tailor.Storage.Tests.TestData;

namespace Tailor.Storage.Tests;

/// <summary>
/// What the S3 store puts on the wire to guard a body: the payload hash it signs (or
/// <c>UNSIGNED-PAYLOAD</c>) and the CRC-32 S3 verifies. s3rver checks neither, so the requests are
/// captured before they leave the process and answered there.
/// </summary>
public sealed class S3BodyIntegrityTests
{
    private static readonly BasicAWSCredentials Credentials = new("AKIDEXAMPLE", "secret");

    [Fact]
    public async Task On_AWS_bodies_are_unsigned_and_carry_a_CRC32_of_their_bytes()
    {
        var wire = new CapturingHttp();
        await using var store = new S3ObjectStore("bucket", null, new S3ObjectStoreOptions { Credentials = Credentials, HttpClientFactory = wire });
        var small = Bytes(1000, 1);
        var part = Bytes((2 * MiB) + 3, 2);

        await store.PutAsync("small.bin", small);
        await store.UploadPartAsync("large.bin", "upload-1", 1, Segmented(part));

        var put = wire.Single("small.bin");
        Assert.StartsWith("https://", put.Uri);
        Assert.Equal("UNSIGNED-PAYLOAD", put.Header("x-amz-content-sha256"));
        Assert.Equal(Crc32Header(small), put.Header("x-amz-checksum-crc32"));
        Assert.Equal(small, put.Body);
        Assert.Null(put.Header("x-amz-trailer"));
        Assert.Null(put.Header("content-encoding"));

        // The checksum is one of the signed headers, so it cannot be changed on the way unnoticed.
        Assert.Contains("x-amz-checksum-crc32", put.Header("Authorization"), StringComparison.Ordinal);

        var sent = wire.Single("large.bin");
        Assert.Equal("UNSIGNED-PAYLOAD", sent.Header("x-amz-content-sha256"));
        Assert.Equal(Crc32Header(part), sent.Header("x-amz-checksum-crc32"));
        Assert.Equal(part, sent.Body);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9000", null)]
    [InlineData("https://minio.internal:9000", null)]
    [InlineData("https://minio.internal:9000", true)]
    public async Task Other_servers_get_a_signed_SHA256_and_the_CRC32(string endpoint, bool? signPayloads)
    {
        var wire = new CapturingHttp();
        await using var store = new S3ObjectStore("bucket", null, new S3ObjectStoreOptions
        {
            Endpoint = new Uri(endpoint),
            Credentials = Credentials,
            SignPayloads = signPayloads,
            HttpClientFactory = wire,
        });
        var part = Bytes(MiB + 5, 3);

        await store.UploadPartAsync("large.bin", "upload-1", 2, Segmented(part));

        var sent = wire.Single("large.bin");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(part)), sent.Header("x-amz-content-sha256"));
        Assert.Equal(Crc32Header(part), sent.Header("x-amz-checksum-crc32"));
        Assert.Equal(part, sent.Body);
    }

    [Fact]
    public async Task Unsigned_bodies_can_be_asked_for_over_https_and_are_refused_over_http()
    {
        var wire = new CapturingHttp();
        await using (var store = new S3ObjectStore("bucket", null, new S3ObjectStoreOptions
        {
            Endpoint = new Uri("https://minio.internal:9000"),
            Credentials = Credentials,
            SignPayloads = false,
            HttpClientFactory = wire,
        }))
        {
            var content = Bytes(777, 4);
            await store.PutAsync("object.bin", content);
            Assert.Equal("UNSIGNED-PAYLOAD", wire.Single("object.bin").Header("x-amz-content-sha256"));
            Assert.Equal(Crc32Header(content), wire.Single("object.bin").Header("x-amz-checksum-crc32"));
        }

        var refused = Assert.Throws<ArgumentException>(() => new S3ObjectStore("bucket", null, new S3ObjectStoreOptions
        {
            Endpoint = new Uri("http://127.0.0.1:9000"),
            Credentials = Credentials,
            SignPayloads = false,
        }));
        Assert.Equal(nameof(S3ObjectStoreOptions.SignPayloads), refused.ParamName);
    }

    /// <summary>S3's form of a CRC-32: the big-endian value in base64.</summary>
    private static string Crc32Header(byte[] data)
    {
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(value, Crc32.HashToUInt32(data));
        return Convert.ToBase64String(value);
    }

    /// <summary>The bytes in uneven segments, as a part buffer holds them.</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] data)
    {
        var first = new Segment(data.AsMemory(0, 16 * 1024), 0);
        var last = first;
        var offset = 16 * 1024;
        for (var size = 32 * 1024; offset < data.Length; size = Math.Min(size * 2, 256 * 1024))
        {
            var n = Math.Min(size, data.Length - offset);
            last = last.Append(data.AsMemory(offset, n));
            offset += n;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    private sealed record CapturedRequest(string Uri, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
    }

    /// <summary>Answers every PUT with 200 and an ETag, and keeps what was sent.</summary>
    private sealed class CapturingHttp : HttpClientFactory
    {
        private readonly ConcurrentQueue<CapturedRequest> _requests = new();

        public CapturedRequest Single(string key) => Assert.Single(_requests, r => new Uri(r.Uri).AbsolutePath.EndsWith("/" + key, StringComparison.Ordinal));

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Handler(this));

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => true;

        private sealed class Handler(CapturingHttp owner) : HttpMessageHandler
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var (name, values) in request.Headers)
                {
                    headers[name] = string.Join(",", values);
                }

                var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
                if (request.Content is not null)
                {
                    foreach (var (name, values) in request.Content.Headers)
                    {
                        headers[name] = string.Join(",", values);
                    }
                }

                owner._requests.Enqueue(new CapturedRequest(request.RequestUri!.AbsoluteUri, headers, body));
                var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([]), RequestMessage = request };
                response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"etag\"");
                return response;
            }
        }
    }
}
