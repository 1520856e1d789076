using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Tailor.Management;

/// <summary>Runs a <see cref="ManagementServer"/> while the host runs, when <see cref="ManagementOptions.Urls"/> is set.</summary>
internal sealed class ManagementService(IOptions<ManagementOptions> options, IOptions<HealthCheckServiceOptions> checks, IServiceProvider services, ILoggerFactory? loggers = null)
    : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger<ManagementService>();
    private ManagementServer? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(options.Value.Urls))
        {
            return;
        }

        // The checks were registered in the host's container: they run with the host's services, not the management server's.
        var readiness = checks.Value.Registrations
            .Where(r => r.Tags.Contains(ManagementEndpointRouteBuilderExtensions.ReadyTag))
            .Select(r => new HealthCheckRegistration(r.Name, _ => r.Factory(services), r.FailureStatus, r.Tags, r.Timeout))
            .ToList();
        _server = await ManagementServer.StartAsync(options.Value, readiness, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Management endpoints (/healthz, /readyz, /metrics) listen on {Addresses}", string.Join(", ", _server.Addresses));
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _server, null) is { } server)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
