using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tailor.Management;

/// <summary>Maps the management endpoints on an ASP.NET Core application.</summary>
public static class ManagementEndpointRouteBuilderExtensions
{
    /// <summary>The tag that makes a health check part of <c>/readyz</c>.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Maps <c>GET /healthz</c> (200 while the process serves requests; runs no check), <c>GET /readyz</c>
    /// (200 when every health check tagged <see cref="ReadyTag"/> is healthy, else 503, with a JSON body
    /// naming each check, its status and why) and <c>GET /metrics</c> (every <c>Tailor.*</c> meter in the
    /// Prometheus text format).
    /// </summary>
    /// <param name="endpoints">The application.</param>
    /// <returns>A builder for the three endpoints (for example to exempt them from authorisation).</returns>
    /// <remarks>The services need <see cref="ManagementServiceCollectionExtensions.AddTailorTelemetry"/>.</remarks>
    public static IEndpointConventionBuilder MapTailorManagement(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup(string.Empty);
        group.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        group.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = r => r.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync });
        group.MapPrometheusScrapingEndpoint("/metrics");
        return group;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", Name(report.Status));
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject(name);
                json.WriteString("status", Name(entry.Status));
                if (entry.Description is { } description)
                {
                    json.WriteString("description", description);
                }

                json.WriteNumber("ms", Math.Round(entry.Duration.TotalMilliseconds, 1));
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).AsTask();
    }

    private static string Name(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}
