using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>One request the <see cref="S3Proxy"/> saw, with the status the client got.</summary>
/// <param name="At">When the request head arrived, from the proxy's start.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path, e.g. <c>/bucket/segments/org-mod-3/…</c> (path-style addressing).</param>
/// <param name="Query">The query string without <c>?</c>, or empty.</param>
/// <param name="Status">The status the client got; 0 when the exchange broke before an answer.</param>
/// <param name="Injected">Whether the proxy answered itself (an injected 503 Slow Down).</param>
internal sealed record ProxiedRequest(TimeSpan At, string Method, string Path, string Query, int Status, bool Injected)
{
    /// <summary>Whether this request wrote an object: a put without a part number, or the completion of a multipart upload.</summary>
    public bool WritesObject =>
        (Method == "PUT" && !Query.Contains("partNumber=", StringComparison.Ordinal)) || (Method == "POST" && Query.Contains("uploadId=", StringComparison.Ordinal));
}

/// <summary>
/// An HTTP/1.1 proxy on loopback in front of an S3 server (s3rver). It forwards every request byte for
/// byte (so request signatures, which cover the Host header, still match), records each request with the
/// status the client got, and can answer a share of requests itself with the 503 Slow Down that S3 gives a
/// hot prefix: the store as every client, in this process or another, sees it.
/// </summary>
/// <remarks>
/// Each forwarded request gets its own connection to the server (cheap on loopback), so the server's
/// keep-alive timing never breaks a client's connection. <c>Expect: 100-continue</c> is passed through:
/// the server's interim answer goes back to the client before the body is forwarded. An injected answer
/// to such a request is sent before the body and closes the connection, as S3 does.
/// </remarks>
internal sealed class S3Proxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ProxiedRequest> _requests = new();
    private readonly ConcurrentDictionary<Socket, byte> _clients = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Random _random;
    private readonly Task _accepting;
    private long _slowDownShareBits;
    private long _injected;

    /// <summary>Starts a proxy in front of a server.</summary>
    /// <param name="target">The server's URL (host and port are used).</param>
    /// <param name="seed">Seed of the choice of requests to answer with 503.</param>
    public S3Proxy(Uri target, int seed = 1)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _random = new Random(seed);
        _listener.Start(512);
        Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    /// <summary>The proxy's URL, to use as the S3 endpoint.</summary>
    public Uri Endpoint { get; }

    /// <summary>The share of requests, 0 to 1, answered with 503 Slow Down instead of being forwarded. Changes apply to the next request.</summary>
    public double SlowDownShare
    {
        get => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _slowDownShareBits));
        set => Interlocked.Exchange(ref _slowDownShareBits, BitConverter.DoubleToInt64Bits(value));
    }

    /// <summary>How many requests were answered with an injected 503.</summary>
    public long Injected => Interlocked.Read(ref _injected);

    /// <summary>Every request so far, in the order their exchanges ended.</summary>
    public IReadOnlyList<ProxiedRequest> Requests => [.. _requests];

    /// <summary>The store key of a request path in a bucket: <c>/bucket/a/b</c> → <c>a/b</c>.</summary>
    public static string KeyOf(string path, string bucket)
    {
        var prefix = "/" + bucket + "/";
        var key = path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : path.TrimStart('/');
        return Uri.UnescapeDataString(key);
    }

    /// <summary>Stops accepting and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var socket in _clients.Keys)
        {
            socket.Dispose();
        }

        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stop.Token);
            client.NoDelay = true;
            _clients[client] = 0;
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private bool ShouldInject()
    {
        var share = SlowDownShare;
        if (share <= 0)
        {
            return false;
        }

        lock (_random)
        {
            return _random.NextDouble() < share;
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var token = _stop.Token;
        try
        {
            await using var client = new NetworkStream(socket, ownsSocket: true);
            var fromClient = new BufferedReader(client);
            while (!token.IsCancellationRequested)
            {
                var headBytes = await fromClient.ReadHeadAsync(token);
                if (headBytes is null)
                {
                    return;
                }

                var request = MessageHead.Parse(headBytes);
                var at = _clock.Elapsed;
                var line = request.StartLine.Split(' ');
                var method = line[0];
                var target = line.Length > 1 ? line[1] : "/";
                var question = target.IndexOf('?', StringComparison.Ordinal);
                var path = question < 0 ? target : target[..question];
                var query = question < 0 ? string.Empty : target[(question + 1)..];
                var expectsContinue = request.Get("Expect")?.Contains("100-continue", StringComparison.OrdinalIgnoreCase) == true;

                if (ShouldInject())
                {
                    Interlocked.Increment(ref _injected);
                    if (!expectsContinue)
                    {
                        await fromClient.CopyBodyAsync(request, null, token);
                    }

                    var close = expectsContinue || request.Closes;
                    await client.WriteAsync(SlowDown(method, path, close), token);
                    _requests.Enqueue(new ProxiedRequest(at, method, path, query, 503, Injected: true));
                    if (close)
                    {
                        return;
                    }

                    continue;
                }

                var (status, keepOpen) = await ForwardAsync(client, fromClient, headBytes, request, method, expectsContinue, token);
                _requests.Enqueue(new ProxiedRequest(at, method, path, query, status, Injected: false));
                if (!keepOpen)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or FormatException)
        {
            // The client, the server or the proxy's stop ended the exchange.
        }
        finally
        {
            _clients.TryRemove(socket, out _);
        }
    }

    /// <summary>Forwards one request on a new server connection and its answer back; returns the final status and whether the client connection stays usable.</summary>
    private async Task<(int Status, bool KeepOpen)> ForwardAsync(
        NetworkStream client, BufferedReader fromClient, byte[] headBytes, MessageHead request, string method, bool expectsContinue, CancellationToken token)
    {
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await upstream.ConnectAsync(_target, token);
        await using var server = new NetworkStream(upstream, ownsSocket: false);
        var fromServer = new BufferedReader(server);
        await server.WriteAsync(headBytes, token);
        var bodySent = false;
        if (!expectsContinue)
        {
            await fromClient.CopyBodyAsync(request, server, token);
            bodySent = true;
        }

        while (true)
        {
            var responseBytes = await fromServer.ReadHeadAsync(token) ?? throw new IOException("The server closed the connection before answering.");
            var response = MessageHead.Parse(responseBytes);
            var status = response.Status;
            await client.WriteAsync(responseBytes, token);
            if (status is >= 100 and < 200)
            {
                // An interim answer (100 Continue): now the client sends the body.
                if (!bodySent)
                {
                    await fromClient.CopyBodyAsync(request, server, token);
                    bodySent = true;
                }

                continue;
            }

            if (method == "HEAD" || status is 204 or 304)
            {
                // No body.
            }
            else if (response.IsChunked)
            {
                await fromServer.CopyChunkedAsync(client, token);
            }
            else if (response.ContentLength is { } length)
            {
                await fromServer.CopyAsync(length, client, token);
            }
            else
            {
                await fromServer.CopyToEndAsync(client, token);
                return (status, false);
            }

            // A final answer before the body was sent leaves the client's side of the exchange unknown: close.
            return (status, bodySent && !response.Closes && !request.Closes);
        }
    }

    private static byte[] SlowDown(string method, string path, bool close)
    {
        var id = Guid.NewGuid().ToString("N")[..16].ToUpperInvariant();
        var body = method == "HEAD"
            ? []
            : Encoding.UTF8.GetBytes($"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><Resource>{path}</Resource><RequestId>{id}</RequestId></Error>");
        var head = "HTTP/1.1 503 Slow Down\r\n"
            + "Content-Type: application/xml\r\n"
            + $"Content-Length: {body.Length}\r\n"
            + $"x-amz-request-id: {id}\r\n"
            + $"Date: {DateTimeOffset.UtcNow:R}\r\n"
            + (close ? "Connection: close\r\n" : string.Empty)
            + "\r\n";
        return [.. Encoding.ASCII.GetBytes(head), .. body];
    }

    /// <summary>The start line and headers of one HTTP message.</summary>
    private sealed class MessageHead
    {
        private readonly Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase);

        private MessageHead(string startLine) => StartLine = startLine;

        public string StartLine { get; }

        public int Status => int.Parse(StartLine.Split(' ')[1], CultureInfo.InvariantCulture);

        public long? ContentLength => Get("Content-Length") is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : null;

        public bool IsChunked => Get("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true;

        public bool Closes => Get("Connection")?.Contains("close", StringComparison.OrdinalIgnoreCase) == true;

        public static MessageHead Parse(byte[] head)
        {
            var lines = Encoding.ASCII.GetString(head).Split("\r\n");
            var parsed = new MessageHead(lines[0]);
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    var name = line[..colon].Trim();
                    var value = line[(colon + 1)..].Trim();
                    parsed._headers[name] = parsed._headers.TryGetValue(name, out var earlier) ? earlier + ", " + value : value;
                }
            }

            return parsed;
        }

        public string? Get(string name) => _headers.GetValueOrDefault(name);
    }

    /// <summary>Reads HTTP message parts from a stream through one buffer.</summary>
    private sealed class BufferedReader(Stream stream)
    {
        private const int MaxHeadBytes = 64 * 1024;
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        /// <summary>Reads a start line and headers up to and including the blank line; null when the stream ends before a message.</summary>
        public async Task<byte[]?> ReadHeadAsync(CancellationToken token)
        {
            using var head = new MemoryStream();
            var matched = 0;
            while (true)
            {
                if (_start == _end && !await FillAsync(token))
                {
                    return head.Length == 0 ? null : throw new IOException("The connection closed inside a message head.");
                }

                while (_start < _end)
                {
                    var b = _buffer[_start++];
                    head.WriteByte(b);
                    var expected = matched is 0 or 2 ? (byte)'\r' : (byte)'\n';
                    matched = b == expected ? matched + 1 : (b == '\r' ? 1 : 0);
                    if (matched == 4)
                    {
                        return head.ToArray();
                    }
                }

                if (head.Length > MaxHeadBytes)
                {
                    throw new IOException("A message head is longer than 64 KiB.");
                }
            }
        }

        /// <summary>Copies a request's body (by its length or chunks) to <paramref name="destination"/>, or drops it when that is null.</summary>
        public Task CopyBodyAsync(MessageHead request, Stream? destination, CancellationToken token) =>
            request.IsChunked ? CopyChunkedAsync(destination, token)
            : request.ContentLength is { } length ? CopyAsync(length, destination, token)
            : Task.CompletedTask;

        public async Task CopyAsync(long length, Stream? destination, CancellationToken token)
        {
            while (length > 0)
            {
                if (_start == _end && !await FillAsync(token))
                {
                    throw new IOException("The connection closed inside a body.");
                }

                var n = (int)Math.Min(length, _end - _start);
                if (destination is not null)
                {
                    await destination.WriteAsync(_buffer.AsMemory(_start, n), token);
                }

                _start += n;
                length -= n;
            }
        }

        public async Task CopyChunkedAsync(Stream? destination, CancellationToken token)
        {
            while (true)
            {
                var line = await ReadLineAsync(token);
                await WriteAsync(destination, line, token);
                var text = Encoding.ASCII.GetString(line).Trim();
                var extension = text.IndexOf(';', StringComparison.Ordinal);
                var size = long.Parse(extension < 0 ? text : text[..extension], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    // Trailers, then the blank line.
                    while (true)
                    {
                        var trailer = await ReadLineAsync(token);
                        await WriteAsync(destination, trailer, token);
                        if (trailer.Length == 2)
                        {
                            return;
                        }
                    }
                }

                await CopyAsync(size + 2, destination, token);
            }
        }

        public async Task CopyToEndAsync(Stream destination, CancellationToken token)
        {
            do
            {
                await destination.WriteAsync(_buffer.AsMemory(_start, _end - _start), token);
                _start = _end;
            }
            while (await FillAsync(token));
        }

        private static async Task WriteAsync(Stream? destination, byte[] bytes, CancellationToken token)
        {
            if (destination is not null)
            {
                await destination.WriteAsync(bytes, token);
            }
        }

        private async Task<byte[]> ReadLineAsync(CancellationToken token)
        {
            using var line = new MemoryStream();
            while (true)
            {
                if (_start == _end && !await FillAsync(token))
                {
                    throw new IOException("The connection closed inside a chunk header.");
                }

                var b = _buffer[_start++];
                line.WriteByte(b);
                if (b == '\n')
                {
                    return line.ToArray();
                }

                if (line.Length > MaxHeadBytes)
                {
                    throw new IOException("A chunk header is longer than 64 KiB.");
                }
            }
        }

        private async Task<bool> FillAsync(CancellationToken token)
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, token);
            return _end > 0;
        }
    }
}
