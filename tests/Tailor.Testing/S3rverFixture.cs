using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Tailor.Storage;
using Xunit;

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
/// The server runs under a small shell watchdog that stops it when this process goes away, even if the
/// test host crashes before dispose, and with Node's OpenSSL legacy provider enabled, without which
/// s3rver's DES-encrypted list continuation tokens fail (every listing past one page would be a 500).
/// s3rver 3.7.1 ignores <c>If-None-Match</c>, and implements neither
/// AbortMultipartUpload (405) nor ListMultipartUploads (501); <see cref="PendingUploadIds"/> reads its
/// data folder instead.
/// </para>
/// </remarks>
public sealed partial class S3rverFixture : IAsyncLifetime
{
    /// <summary>The name to give the xunit collection that shares one server.</summary>
    public const string Collection = "s3rver";

    /// <summary>s3rver's fixed access key id.</summary>
    public const string AccessKey = "S3RVER";

    /// <summary>s3rver's fixed secret key.</summary>
    public const string SecretKey = "S3RVER";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly TempFolder _data = new("s3rver");
    private readonly StringBuilder _log = new();
    private Process? _process;

    /// <summary>The server's endpoint, e.g. <c>http://127.0.0.1:41234</c>; set once started.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The folder s3rver keeps buckets and objects in.</summary>
    public string DataDirectory => _data.Path;

    /// <summary>Credentials s3rver accepts.</summary>
    public static AWSCredentials Credentials { get; } = new BasicAWSCredentials(AccessKey, SecretKey);

    /// <summary>Starts the server and waits until it answers.</summary>
    /// <returns>A task that completes when the server is ready.</returns>
    public async Task InitializeAsync()
    {
        var s3rver = FindS3rver();
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // s3rver's list continuation tokens are DES-encrypted, which Node 17+ (OpenSSL 3) refuses unless
        // the legacy provider is enabled: without it every listing longer than one page is a 500.
        var nodeOptions = Environment.GetEnvironmentVariable("NODE_OPTIONS");
        start.Environment["NODE_OPTIONS"] = string.IsNullOrEmpty(nodeOptions) ? "--openssl-legacy-provider" : nodeOptions + " --openssl-legacy-provider";

        // The watchdog: s3rver runs in the background; when our end of stdin closes (dispose, or this
        // process dying) `cat` returns and the server is stopped, so no test run leaves one behind.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("\"$@\" & child=$!; trap 'kill $child 2>/dev/null' EXIT; cat >/dev/null; kill $child 2>/dev/null; wait $child");
        start.ArgumentList.Add("s3rver-watchdog");
        foreach (var argument in new[] { s3rver, "-d", _data.Path, "-a", "127.0.0.1", "-p", "0", "-s" })
        {
            start.ArgumentList.Add(argument);
        }

        var port = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnOutput(e.Data, port);
        _process.ErrorDataReceived += (_, e) => OnOutput(e.Data, null);
        _process.Exited += (_, _) => port.TrySetException(new InvalidOperationException($"s3rver exited before it listened:\n{Log}"));
        if (!_process.Start())
        {
            throw new InvalidOperationException("Could not start /bin/sh for s3rver.");
        }

        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        int listening;
        try
        {
            listening = await port.Task.WaitAsync(StartTimeout);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"s3rver did not report its port within {StartTimeout.TotalSeconds} s:\n{Log}");
        }

        Endpoint = new Uri($"http://127.0.0.1:{listening}");
        await WaitUntilAnsweringAsync();
    }

    /// <summary>Stops the server and deletes its data folder.</summary>
    /// <returns>A task that completes when the server is gone.</returns>
    public async Task DisposeAsync()
    {
        if (_process is { } process)
        {
            try
            {
                process.StandardInput.Close();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await process.WaitForExitAsync(wait.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        _data.Dispose();
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
    public AmazonS3Client CreateClient() =>
        new(Credentials, new AmazonS3Config { ServiceURL = Endpoint.AbsoluteUri, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });

    /// <summary>
    /// Multipart uploads of a bucket that were started and neither completed nor aborted, read from
    /// s3rver's data folder (s3rver does not implement ListMultipartUploads).
    /// </summary>
    /// <param name="bucket">The bucket.</param>
    /// <returns>The upload ids.</returns>
    public IReadOnlyList<string> PendingUploadIds(string bucket)
    {
        var uploads = Path.Combine(_data.Path, bucket, "._S3rver_uploads");
        return Directory.Exists(uploads) ? [.. Directory.EnumerateDirectories(uploads).Select(Path.GetFileName).OfType<string>()] : [];
    }

    /// <summary>What the server printed so far, for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    private static string FindS3rver()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "node_modules", ".bin", "s3rver");
            if (File.Exists(candidate))
            {
                return candidate;
            }

            if (File.Exists(Path.Combine(folder.FullName, "package-lock.json")))
            {
                throw new InvalidOperationException(
                    $"s3rver is not installed: run `npm ci` in {folder.FullName} (the README's test command does it).");
            }
        }

        throw new InvalidOperationException("Could not find node_modules/.bin/s3rver above the test binaries: run `npm ci` in the repository root.");
    }

    [GeneratedRegex(@"listening on [^\s:]+:(\d+)")]
    private static partial Regex ListeningLine();

    private void OnOutput(string? line, TaskCompletionSource<int>? port)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }

        if (port is not null && ListeningLine().Match(line) is { Success: true } match)
        {
            port.TrySetResult(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private async Task WaitUntilAnsweringAsync()
    {
        using var client = CreateClient();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await client.ListBucketsAsync();
                return;
            }
            catch (Exception ex) when (deadline.Elapsed < StartTimeout && ex is HttpRequestException or AmazonServiceException)
            {
                await Task.Delay(50);
            }
        }
    }
}
