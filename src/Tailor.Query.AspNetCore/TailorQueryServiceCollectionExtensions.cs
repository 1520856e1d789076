using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Tailor.Storage;

namespace Tailor.Query.AspNetCore;

/// <summary>Registers the query API's services.</summary>
public static class TailorQueryServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="QueryEngine"/> over <paramref name="store"/> (unless one is registered already)
    /// and the options of the HTTP endpoints; map them with
    /// <see cref="TailorQueryEndpointRouteBuilderExtensions.MapTailorQuery"/>.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="store">The store to read; the caller owns it and disposes it after the application stopped.</param>
    /// <param name="configure">Sets the endpoints' options; null for the defaults.</param>
    /// <param name="engine">The engine's options (cache size, limits); null for the defaults.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddTailorQuery(this IServiceCollection services, IObjectStore store, Action<TailorQueryOptions>? configure = null, QueryEngineOptions? engine = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(store);
        services.AddOptions<TailorQueryOptions>().Configure(o => configure?.Invoke(o));
        if (!services.Any(d => d.ServiceType == typeof(QueryEngine)))
        {
            services.AddSingleton(new QueryEngine(store, engine));
        }

        services.AddSingleton(new QueryStore(store));
        services.Configure<JsonOptions>(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        return services;
    }
}
