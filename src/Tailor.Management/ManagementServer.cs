using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tailor.Management;

/// <summary>
/// A small web server of its own that serves <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c> for a
/// process that is not otherwise a web application (a sink or compaction worker).
/// </summary>
/// <remarks>
/// Start it with <see cref="StartAsync"/> and dispose it to stop listening. It reads no configuration
/// file and no environment variable: what it listens on comes from <see cref="ManagementOptions"/> only.
/// </remarks>
public sealed class ManagementServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ManagementServer(WebApplication app, IReadOnlyList<Uri> addresses)
    {
        _app = app;
        Addresses = addresses;
    }

    /// <summary>The addresses the server listens on, with the ports it was given (a configured port 0 is replaced by the real one).</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    /// <summary>Starts listening on <see cref="ManagementOptions.Urls"/>.</summary>
    /// <param name="options">Where to listen; <see cref="ManagementOptions.Urls"/> must be set.</param>
    /// <param name="readiness">The checks <c>/readyz</c> runs (each is tagged <see cref="ManagementEndpointRouteBuilderExtensions.ReadyTag"/> here).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="ArgumentException"><see cref="ManagementOptions.Urls"/> is empty or not an http address.</exception>
    /// <exception cref="IOException">The address is in use.</exception>
    public static async Task<ManagementServer> StartAsync(ManagementOptions options, IEnumerable<HealthCheckRegistration> readiness, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(readiness);
        var urls = ParseUrls(options.Urls);
        var checks = readiness.Select(r => new HealthCheckRegistration(r.Name, r.Factory, r.FailureStatus,
            [.. r.Tags, ManagementEndpointRouteBuilderExtensions.ReadyTag], r.Timeout == Timeout.InfiniteTimeSpan ? options.ReadinessTimeout : r.Timeout)).ToList();

        // An empty builder: no appsettings.json, no environment variables, no logging providers of the
        // host's; the management server must not pick up what was meant for the application.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(ManagementServer).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().UseUrls([.. urls]);
        builder.Services.AddRoutingCore();
        builder.Services.AddTailorTelemetry();
        builder.Services.Configure<HealthCheckServiceOptions>(o =>
        {
            foreach (var check in checks)
            {
                o.Registrations.Add(check);
            }
        });
        var app = builder.Build();
        app.UseRouting();
        app.MapTailorManagement();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new ManagementServer(app, [.. app.Urls.Select(u => new Uri(u))]);
    }

    /// <summary>Stops listening (requests in flight get a second to finish).</summary>
    public async ValueTask DisposeAsync()
    {
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
        {
            await _app.StopAsync(stop.Token).ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static List<string> ParseUrls(string? urls)
    {
        var parts = (urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new ArgumentException("ManagementOptions.Urls is empty: give an address such as http://127.0.0.1:9464.", nameof(urls));
        }

        foreach (var part in parts)
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
            {
                throw new ArgumentException($"ManagementOptions.Urls: '{part}' is not an http address such as http://127.0.0.1:9464.", nameof(urls));
            }
        }

        return [.. parts];
    }
}
