using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Tailor.Compaction.Hosting;

/// <summary>Registers a compaction worker in a Generic Host.</summary>
public static class CompactionServiceCollectionExtensions
{
    /// <summary>
    /// Runs a compaction worker in this host, configured by a section in the shape of
    /// <see cref="CompactionWorkerOptions"/> (for example <c>builder.Configuration.GetSection("Tailor:Compaction")</c>,
    /// so <c>appsettings.json</c>, environment variables such as <c>Tailor__Compaction__BootstrapServers</c>
    /// and the command line all apply). A key that names no option is refused when the options are first read.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="section">The configuration section.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddTailorCompactionWorker(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<CompactionWorkerOptions>().Bind(section, o => o.ErrorOnUnknownConfiguration = true);
        return AddService(services);
    }

    /// <summary>Runs a compaction worker in this host, configured in code.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Sets the worker's options.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <remarks>
    /// Registers <see cref="CompactionWorkerService"/> as a hosted service (and as itself, so health checks
    /// can read its <see cref="CompactionWorkerService.Status"/>). Give the host a shutdown timeout
    /// (<c>HostOptions.ShutdownTimeout</c>, 30 s by default) longer than
    /// <see cref="CompactionWorkerOptions.StopTimeout"/>, so a stop can finish and commit the running job.
    /// </remarks>
    public static IServiceCollection AddTailorCompactionWorker(this IServiceCollection services, Action<CompactionWorkerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<CompactionWorkerOptions>().Configure(configure);
        return AddService(services);
    }

    private static IServiceCollection AddService(IServiceCollection services)
    {
        services.AddSingleton<CompactionWorkerService>();
        services.AddHostedService(provider => provider.GetRequiredService<CompactionWorkerService>());
        return services;
    }
}
