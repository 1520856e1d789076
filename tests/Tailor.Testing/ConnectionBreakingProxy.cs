using System.Net;
using System.Net.Sockets;

namespace Tailor.Testing;

/// <summary>
/// A TCP proxy on loopback that forwards to a server and resets connections on demand, so tests see
/// real connection resets (the exceptions the HTTP stack really throws) mid-request and mid-response.
/// </summary>
/// <remarks>
/// While <see cref="ConnectionsToBreak"/> is above zero, a connection (new or kept alive) that has
/// carried more than <see cref="ResetAfterResponseBytes"/> bytes from the server, or more than
/// <see cref="ResetAfterRequestBytes"/> bytes from the client, is reset at that point and the count goes
/// down by one. When it reaches zero, traffic passes through untouched.
/// </remarks>
public sealed class ConnectionBreakingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _connectionsToBreak;
    private int _broken;

    /// <summary>Starts a proxy in front of a server.</summary>
    /// <param name="target">The server's URL (only host and port are used).</param>
    public ConnectionBreakingProxy(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _listener.Start();
        Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    /// <summary>The proxy's URL.</summary>
    public Uri Endpoint { get; }

    /// <summary>How many connections to reset from now on.</summary>
    public int ConnectionsToBreak
    {
        get => Volatile.Read(ref _connectionsToBreak);
        set => Volatile.Write(ref _connectionsToBreak, value);
    }

    /// <summary>Reset a broken connection after this many bytes from the server. Default: never.</summary>
    public long ResetAfterResponseBytes { get; set; } = long.MaxValue;

    /// <summary>Reset a broken connection after this many bytes from the client. Default: never.</summary>
    public long ResetAfterRequestBytes { get; set; } = long.MaxValue;

    /// <summary>How many connections were reset so far.</summary>
    public int Broken => Volatile.Read(ref _broken);

    /// <summary>Stops accepting and closes every connection.</summary>
    /// <returns>A task that completes when the proxy is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stop.Token);
            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        try
        {
            await server.ConnectAsync(_target, done.Token);
            var up = PumpAsync(client, server, () => ResetAfterRequestBytes, done.Token);
            var down = PumpAsync(server, client, () => ResetAfterResponseBytes, done.Token);
            var first = await Task.WhenAny(up, down);
            if (await first)
            {
                // Reset, not close: RST makes the client see "connection reset by peer".
                Interlocked.Increment(ref _broken);
                client.LingerState = new LingerOption(true, 0);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
        finally
        {
            await done.CancelAsync();
            client.Close();
        }
    }

    /// <summary>Copies until either side closes; returns <see langword="true"/> when it stopped to reset the connection.</summary>
    private async Task<bool> PumpAsync(Socket from, Socket to, Func<long> limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        long total = 0;
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return false;
                }

                var allowed = n;
                var reset = false;
                if (total + n > limit() && TakeBreak())
                {
                    allowed = (int)Math.Clamp(limit() - total, 0, n);
                    reset = true;
                }

                if (allowed > 0)
                {
                    await to.SendAsync(buffer.AsMemory(0, allowed), SocketFlags.None, cancellationToken);
                    total += allowed;
                }

                if (reset)
                {
                    return true;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    private bool TakeBreak()
    {
        while (true)
        {
            var left = Volatile.Read(ref _connectionsToBreak);
            if (left <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _connectionsToBreak, left - 1, left) == left)
            {
                return true;
            }
        }
    }
}
