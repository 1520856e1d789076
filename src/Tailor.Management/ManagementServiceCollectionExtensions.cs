using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Tailor.Management;

/// <summary>Registers Tailor's management endpoints in a host.</summary>
public static class ManagementServiceCollectionExtensions
{
    /// <summary>The meters the endpoints export: every meter whose name starts with <c>Tailor.</c>.</summary>
    public const string MeterPattern = "Tailor.*";

    /// <summary>
    /// Serves <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c> on a port of their own while the host runs,
    /// configured by a section in the shape of <see cref="ManagementOptions"/> (for example
    /// <c>builder.Configuration.GetSection("Tailor:Management")</c>). Nothing listens unless
    /// <see cref="ManagementOptions.Urls"/> is set.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="section">The configuration section.</param>
    /// <returns>The host's health checks: add readiness checks tagged <see cref="ManagementEndpointRouteBuilderExtensions.ReadyTag"/>.</returns>
    public static IHealthChecksBuilder AddTailorManagement(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return services.AddTailorManagement(options => section.Bind(options));
    }

    /// <summary>Serves the management endpoints on a port of their own while the host runs, configured in code.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The host's health checks: add readiness checks tagged <see cref="ManagementEndpointRouteBuilderExtensions.ReadyTag"/>.</returns>
    /// <remarks>
    /// The endpoints run in a small web server of their own (Kestrel), so a worker host that is not a web
    /// application stays one; the health checks registered in the host's container run there with the
    /// host's services.
    /// </remarks>
    public static IHealthChecksBuilder AddTailorManagement(this IServiceCollection services, Action<ManagementOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ManagementOptions>().Configure(configure);
        services.AddHostedService<ManagementService>();
        return services.AddHealthChecks();
    }

    /// <summary>
    /// For a web application that maps the endpoints itself with
    /// <see cref="ManagementEndpointRouteBuilderExtensions.MapTailorManagement"/>: OpenTelemetry metrics
    /// over every <c>Tailor.*</c> meter with the Prometheus exporter, and the health check service.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <returns>The health checks, to add readiness checks to.</returns>
    public static IHealthChecksBuilder AddTailorTelemetry(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(MeterPattern).AddPrometheusExporter());
        return services.AddHealthChecks();
    }
}
