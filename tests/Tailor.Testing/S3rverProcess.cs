using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;

namespace Tailor.Testing;

/// <summary>
/// One running s3rver (the pinned <c>node_modules/.bin/s3rver</c>) on a free loopback port with a fresh
/// data folder: the process behind <see cref="S3rverFixture"/>, usable on its own by benchmarks and tools.
/// </summary>
/// <remarks>
/// Started under a shell watchdog that stops the server when this process goes away, even without a
/// dispose, and with Node's OpenSSL legacy provider enabled: s3rver encrypts list continuation tokens
/// with DES, which Node 17+ refuses otherwise (every listing past one page would be a 500).
/// </remarks>
public sealed partial class S3rverProcess : IAsyncDisposable
{
    /// <summary>s3rver's fixed access key id.</summary>
    public const string AccessKey = "S3RVER";

    /// <summary>s3rver's fixed secret key.</summary>
    public const string SecretKey = "S3RVER";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly TempFolder _data = new("s3rver");
    private readonly StringBuilder _log = new();
    private readonly Process _process;

    private S3rverProcess(Process process, Uri endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    /// <summary>Credentials s3rver accepts.</summary>
    public static AWSCredentials Credentials { get; } = new BasicAWSCredentials(AccessKey, SecretKey);

    /// <summary>The server's endpoint, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri Endpoint { get; private set; }

    /// <summary>The folder s3rver keeps buckets and objects in.</summary>
    public string DataDirectory => _data.Path;

    /// <summary>
    /// CPU time the server has used so far, all its threads (user and system; Linux only,
    /// <see langword="null"/> elsewhere or once it has exited), for benchmarks that must tell the
    /// client's CPU from the server's.
    /// </summary>
    public TimeSpan? ProcessorTime => ServerPid() is { } pid ? ReadCpu($"/proc/{pid}/stat") : null;

    /// <summary>
    /// CPU time of the server's main thread so far (Linux only, else <see langword="null"/>): Node runs
    /// all JavaScript there (HTTP parsing, MD5, streams), so requests can go no faster than it does.
    /// </summary>
    public TimeSpan? MainThreadProcessorTime => ServerPid() is { } pid ? ReadCpu($"/proc/{pid}/task/{pid}/stat") : null;

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

    /// <summary>Starts a server and waits until it answers.</summary>
    /// <returns>The running server; dispose it to stop it.</returns>
    /// <exception cref="InvalidOperationException">s3rver is not installed (run <c>npm ci</c>) or did not start.</exception>
    public static async Task<S3rverProcess> StartAsync()
    {
        var s3rver = FindS3rver();
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var nodeOptions = Environment.GetEnvironmentVariable("NODE_OPTIONS");
        start.Environment["NODE_OPTIONS"] = string.IsNullOrEmpty(nodeOptions) ? "--openssl-legacy-provider" : nodeOptions + " --openssl-legacy-provider";

        // The watchdog: s3rver runs in the background; when our end of stdin closes (dispose, or this
        // process dying) `cat` returns and the server is stopped, so no run leaves one behind.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("\"$@\" & child=$!; trap 'kill $child 2>/dev/null' EXIT; cat >/dev/null; kill $child 2>/dev/null; wait $child");
        start.ArgumentList.Add("s3rver-watchdog");

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new S3rverProcess(process, null!);
        foreach (var argument in new[] { s3rver, "-d", server._data.Path, "-a", "127.0.0.1", "-p", "0", "-s" })
        {
            start.ArgumentList.Add(argument);
        }

        var port = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) => server.OnOutput(e.Data, port);
        process.ErrorDataReceived += (_, e) => server.OnOutput(e.Data, null);
        process.Exited += (_, _) => port.TrySetException(new InvalidOperationException($"s3rver exited before it listened:\n{server.Log}"));
        try
        {
            if (!process.Start())
            {
                throw new InvalidOperationException("Could not start /bin/sh for s3rver.");
            }

            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            int listening;
            try
            {
                listening = await port.Task.WaitAsync(StartTimeout);
            }
            catch (TimeoutException)
            {
                throw new InvalidOperationException($"s3rver did not report its port within {StartTimeout.TotalSeconds} s:\n{server.Log}");
            }

            server.Endpoint = new Uri($"http://127.0.0.1:{listening}");
            await server.WaitUntilAnsweringAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A raw AWS SDK client for this server.</summary>
    /// <returns>A client the caller disposes.</returns>
    public AmazonS3Client CreateClient() =>
        new(Credentials, new AmazonS3Config { ServiceURL = Endpoint.AbsoluteUri, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });

    /// <summary>Stops the server and deletes its data folder.</summary>
    /// <returns>A task that completes when the server is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(wait.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            catch (InvalidOperationException)
            {
                // Never started or already gone.
            }
        }

        _process.Dispose();
        _data.Dispose();
    }

    private static string FindS3rver()
    {
        // Above the binaries (tests, benchmarks in the repository), else above the working folder.
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            if (FindS3rverAbove(start) is { } found)
            {
                return found;
            }
        }

        throw new InvalidOperationException("Could not find node_modules/.bin/s3rver above the binaries or the working folder: run `npm ci` in the repository root.");
    }

    private static string? FindS3rverAbove(string start)
    {
        for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
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

        return null;
    }

    private static TimeSpan? ReadCpu(string statPath)
    {
        try
        {
            // Fields 14 and 15 (utime, stime) in clock ticks of 1/100 s (USER_HZ on Linux); the fields
            // after the parenthesised name start at field 3.
            var stat = File.ReadAllText(statPath);
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Not Linux, or the server is gone.
            return null;
        }
    }

    [GeneratedRegex(@"listening on [^\s:]+:(\d+)")]
    private static partial Regex ListeningLine();

    /// <summary>The server's process: the watchdog shell's child that is not <c>cat</c>; <see langword="null"/> when unknown.</summary>
    private int? ServerPid()
    {
        try
        {
            var shell = _process.Id;
            foreach (var child in File.ReadAllText($"/proc/{shell}/task/{shell}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (File.ReadAllText($"/proc/{child}/comm").Trim() != "cat")
                {
                    return int.Parse(child, CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            // Not Linux, or the server is gone.
        }

        return null;
    }

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
            port.TrySetResult(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
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
