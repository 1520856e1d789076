using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Tailor.Sink.Hosting;

/// <summary>Registers a sink worker in a Generic Host.</summary>
public static class SinkServiceCollectionExtensions
{
    /// <summary>
    /// Runs a sink worker in this host, configured by a section in the shape of
    /// <see cref="SinkWorkerOptions"/> (for example <c>builder.Configuration.GetSection("Tailor:Sink")</c>,
    /// so <c>appsettings.json</c>, environment variables such as <c>Tailor__Sink__Kafka__BootstrapServers</c>
    /// and the command line all apply).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="section">The configuration section.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddTailorSink(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return services.AddTailorSink(options => SinkWorkerOptions.BindInto(section, options));
    }

    /// <summary>Runs a sink worker in this host, configured in code.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Sets the worker's options.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <remarks>
    /// Registers <see cref="SinkWorkerService"/> as a hosted service (and as itself, so health checks can
    /// read its <see cref="SinkWorkerService.Status"/>). Give the host a shutdown timeout
    /// (<c>HostOptions.ShutdownTimeout</c>, 30 s by default) longer than the engine's
    /// <see cref="SinkOptions.StopDeadline"/>, so a stop has time to upload and commit; what a stop cut
    /// short is not committed and is read again by the next owner.
    /// </remarks>
    public static IServiceCollection AddTailorSink(this IServiceCollection services, Action<SinkWorkerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<SinkWorkerOptions>().Configure(configure);
        services.AddSingleton<SinkWorkerService>();
        services.AddHostedService(provider => provider.GetRequiredService<SinkWorkerService>());
        return services;
    }
}
