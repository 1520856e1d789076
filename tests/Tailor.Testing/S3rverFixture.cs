using Amazon.Runtime;
using Amazon.S3;
using Tailor.Storage;

namespace Tailor.Testing;

/// <summary>
/// A real S3 API server for tests: starts the pinned s3rver (<c>node_modules/.bin/s3rver</c>, installed by
/// <c>npm ci</c> in the repository root) on a free loopback port with a fresh data folder, waits until it
/// answers, hands out buckets and ready <see cref="S3ObjectStore"/>s, and stops it on dispose.
/// </summary>
/// <remarks>
/// <para>
/// Share one server per test assembly through a collection: xunit wants the collection definition in
/// the test assembly itself, so declare
/// <c>[CollectionDefinition(S3rverFixture.Collection)] public sealed class S3rverCollection : ICollectionFixture&lt;S3rverFixture&gt;;</c>
/// and mark test classes <c>[Collection(S3rverFixture.Collection)]</c> (or use it as an
/// <c>IClassFixture&lt;S3rverFixture&gt;</c> for one class). Give every test its own bucket
/// (<see cref="CreateStoreAsync"/>) so tests never see each other's objects.
/// </para>
/// <para>
/// The server is an <see cref="S3rverProcess"/> (watchdog, OpenSSL legacy provider: see there).
/// s3rver 3.7.1 only approximates S3: it ignores <c>If-None-Match</c>, is not atomic when several puts
/// race on one key, lists a folder before a sibling key with a character below <c>/</c> (S3 sorts by
/// bytes), and implements neither <c>If-None-Match</c>, and implements neither
/// AbortMultipartUpload (405) nor ListMultipartUploads (501); <see cref="PendingUploadIds"/> reads its
/// data folder instead.
/// </para>
/// </remarks>
public sealed class S3rverFixture : IAsyncLifetime
{
    /// <summary>The name to give the xunit collection that shares one server.</summary>
    public const string Collection = "s3rver";

    /// <summary>s3rver's fixed access key id.</summary>
    public const string AccessKey = S3rverProcess.AccessKey;

    /// <summary>s3rver's fixed secret key.</summary>
    public const string SecretKey = S3rverProcess.SecretKey;

    private S3rverProcess? _server;

    /// <summary>The server's endpoint, e.g. <c>http://127.0.0.1:41234</c>; set once started.</summary>
    public Uri Endpoint => Server.Endpoint;

    /// <summary>The folder s3rver keeps buckets and objects in.</summary>
    public string DataDirectory => Server.DataDirectory;

    /// <summary>The running server.</summary>
    public S3rverProcess Server => _server ?? throw new InvalidOperationException("The s3rver fixture is not started.");

    /// <summary>Credentials s3rver accepts.</summary>
    public static AWSCredentials Credentials => S3rverProcess.Credentials;

    /// <summary>Starts the server and waits until it answers.</summary>
    /// <returns>A task that completes when the server is ready.</returns>
    public async Task InitializeAsync() => _server = await S3rverProcess.StartAsync();

    /// <summary>Stops the server and deletes its data folder.</summary>
    /// <returns>A task that completes when the server is gone.</returns>
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Creates a new, empty bucket with a unique name.</summary>
    /// <param name="label">A word to put in the name (lower-case letters and digits).</param>
    /// <returns>The bucket's name.</returns>
    public async Task<string> CreateBucketAsync(string label = "test")
    {
        var name = $"{label}-{Guid.NewGuid():N}"[..Math.Min(63, label.Length + 17)];
        using var client = CreateClient();
        await client.PutBucketAsync(name);
        return name;
    }

    /// <summary>Options that reach this server: endpoint, path-style addressing and s3rver's credentials.</summary>
    /// <param name="configure">Further changes, e.g. a smaller list page or part size.</param>
    /// <returns>New options.</returns>
    public S3ObjectStoreOptions CreateOptions(Action<S3ObjectStoreOptions>? configure = null)
    {
        var options = new S3ObjectStoreOptions { Endpoint = Endpoint, Credentials = Credentials };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A store on an existing bucket of this server.</summary>
    /// <param name="bucket">The bucket.</param>
    /// <param name="prefix">The store's prefix, if any.</param>
    /// <param name="configure">Changes to the options.</param>
    /// <returns>A store the caller disposes.</returns>
    public S3ObjectStore OpenStore(string bucket, string? prefix = null, Action<S3ObjectStoreOptions>? configure = null) =>
        new(bucket, prefix, CreateOptions(configure));

    /// <summary>A store on a new, empty bucket of this server.</summary>
    /// <param name="prefix">The store's prefix, if any.</param>
    /// <param name="configure">Changes to the options.</param>
    /// <returns>A store the caller disposes.</returns>
    public async Task<S3ObjectStore> CreateStoreAsync(string? prefix = null, Action<S3ObjectStoreOptions>? configure = null) =>
        OpenStore(await CreateBucketAsync(), prefix, configure);

    /// <summary>The store URI of a bucket of this server, for <see cref="ObjectStoreFactory"/> (credentials go in the options).</summary>
    /// <param name="bucket">The bucket.</param>
    /// <param name="prefix">The prefix, if any.</param>
    /// <returns>E.g. <c>s3://bucket/prefix?endpoint=http://127.0.0.1:41234</c>.</returns>
    public string StoreUri(string bucket, string? prefix = null) =>
        $"s3://{bucket}{(string.IsNullOrEmpty(prefix) ? string.Empty : "/" + prefix)}?endpoint={Endpoint.GetLeftPart(UriPartial.Authority)}";

    /// <summary>A raw AWS SDK client for this server, for inspecting what the store did.</summary>
    /// <returns>A client the caller disposes.</returns>
    public AmazonS3Client CreateClient() => Server.CreateClient();

    /// <summary>
    /// Multipart uploads of a bucket that were started and neither completed nor aborted, read from
    /// s3rver's data folder (s3rver does not implement ListMultipartUploads).
    /// </summary>
    /// <param name="bucket">The bucket.</param>
    /// <returns>The upload ids.</returns>
    public IReadOnlyList<string> PendingUploadIds(string bucket)
    {
        var uploads = Path.Combine(DataDirectory, bucket, "._S3rver_uploads");
        return Directory.Exists(uploads) ? [.. Directory.EnumerateDirectories(uploads).Select(Path.GetFileName).OfType<string>()] : [];
    }

    /// <summary>What the server printed so far, for failure messages.</summary>
    public string Log => Server.Log;
}
