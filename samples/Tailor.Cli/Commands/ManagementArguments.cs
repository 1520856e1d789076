using System.CommandLine;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Tailor.Management;
using Tailor.Storage;

namespace Tailor.Cli.Commands;

/// <summary>The <c>--management-urls</c> flag of the worker commands and the server it starts.</summary>
internal static class ManagementArguments
{
    /// <summary>The default: on, on a free loopback port (two workers on one machine never collide).</summary>
    public const string DefaultUrls = "http://127.0.0.1:0";

    public static Option<string> Urls() => new("--management-urls")
    {
        Description = "Where /healthz, /readyz and /metrics (Prometheus) listen, e.g. http://0.0.0.0:9464; 'none' turns them off "
            + "(port 0 takes a free port, printed as the event line 'management URL').",
        DefaultValueFactory = _ => DefaultUrls,
    };

    /// <summary>Starts the management server unless <paramref name="urls"/> is <c>none</c>, and prints where it listens.</summary>
    /// <param name="urls">The flag's value.</param>
    /// <param name="store">The store the worker uses (checked by <c>/readyz</c>).</param>
    /// <param name="name">The name of the worker's own check in <c>/readyz</c>.</param>
    /// <param name="ready">The worker's own readiness: null when ready, else why not.</param>
    /// <param name="events">Where the event line goes.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="CliException">The address is not valid (exit 2) or in use (exit 1).</exception>
    public static async Task<ManagementServer?> StartAsync(string urls, IObjectStore store, string name, Func<string?> ready, TextWriter events, CancellationToken cancellationToken)
    {
        if (string.Equals(urls.Trim(), "none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        CheckHttpUrls(urls, "--management-urls", "http://127.0.0.1:9464");
        ManagementServer server;
        try
        {
            server = await ManagementServer.StartAsync(new ManagementOptions { Urls = urls },
                [
                    new HealthCheckRegistration("store", new StoreReadinessCheck(() => store), HealthStatus.Unhealthy, null),
                    new HealthCheckRegistration(name, _ => new DelegateCheck(ready), HealthStatus.Unhealthy, null),
                ], cancellationToken);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"--management-urls: {e.Message.Split(" (Parameter", 2)[0]}", ExitCodes.BadArguments);
        }
        catch (IOException e)
        {
            throw new CliException($"--management-urls {urls}: {e.Message}", ExitCodes.Failure);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped while the endpoints were starting: the command stops as it would without them.
            return null;
        }

        await events.WriteLineAsync($"management {string.Join(' ', server.Addresses.Select(a => a.ToString().TrimEnd('/')))}");
        return server;
    }

    /// <summary>
    /// Refuses, naming <paramref name="option"/>, a list of listen addresses (separated by ';') that holds
    /// anything but http addresses without a path (Kestrel's wildcard hosts <c>*</c> and <c>+</c> allowed).
    /// </summary>
    public static void CheckHttpUrls(string urls, string option, string example)
    {
        var parts = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new CliException($"{option} is empty: give an address such as {example}.", ExitCodes.BadArguments);
        }

        foreach (var part in parts)
        {
            var plain = part.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal);
            if (!Uri.TryCreate(plain, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
            {
                throw new CliException($"{option}: '{part}' is not an http address such as {example}.", ExitCodes.BadArguments);
            }
        }
    }

    private sealed class DelegateCheck(Func<string?> ready) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(ready() is { } why ? HealthCheckResult.Unhealthy(why) : HealthCheckResult.Healthy());
    }
}
