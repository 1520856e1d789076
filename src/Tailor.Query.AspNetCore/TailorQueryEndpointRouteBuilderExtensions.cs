using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tailor.Storage;
using HttpResults = Microsoft.AspNetCore.Http.Results;

namespace Tailor.Query.AspNetCore;

/// <summary>Maps Tailor's query API and explorer page on an ASP.NET Core application.</summary>
public static class TailorQueryEndpointRouteBuilderExtensions
{
    private static readonly Assembly Resources = typeof(TailorQueryEndpointRouteBuilderExtensions).Assembly;

    /// <summary>
    /// Maps <c>GET /api/v1/query</c>, <c>GET /api/v1/contexts</c> and <c>GET /api/v1/windows</c> (JSON; bad
    /// input answers 400 and a query over a limit 422, both as RFC 9457 problem bodies naming the parameter
    /// and rule or the limit; an unknown <c>/api/</c> route 404), the explorer page at <c>GET /</c> and its
    /// files under <c>/static/</c>.
    /// </summary>
    /// <param name="endpoints">The application; its services need <see cref="TailorQueryServiceCollectionExtensions.AddTailorQuery"/>.</param>
    /// <returns>A builder for the API endpoints (for example to add an authorisation policy of the host's).</returns>
    /// <remarks>
    /// With <see cref="TailorQueryOptions.ApiKey"/> set, every API call needs <c>Authorization: Bearer KEY</c>.
    /// With <see cref="TailorQueryOptions.CorsOrigins"/> set, <paramref name="endpoints"/> must be the
    /// application itself (a <see cref="WebApplication"/>), which gets the CORS middleware.
    /// </remarks>
    public static RouteGroupBuilder MapTailorQuery(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<TailorQueryOptions>>().Value;
        var api = endpoints.MapGroup("/api/v1");
        if (options.ApiKey is { Length: > 0 } key)
        {
            var expected = SHA256.HashData(Encoding.UTF8.GetBytes(key));
            api.AddEndpointFilter(async (context, next) => Authorized(context.HttpContext.Request, expected)
                ? await next(context).ConfigureAwait(false)
                : Unauthorized(context.HttpContext));
        }

        if (options.CorsOrigins.Count > 0)
        {
            if (endpoints is not IApplicationBuilder app)
            {
                throw new InvalidOperationException("TailorQueryOptions.CorsOrigins needs MapTailorQuery on the WebApplication itself.");
            }

            app.UseCors(policy => policy.WithOrigins([.. options.CorsOrigins]).WithMethods("GET").WithHeaders("Authorization"));
        }

        api.MapGet("/query", QueryAsync);
        api.MapGet("/contexts", ContextsAsync);
        api.MapGet("/windows", WindowsAsync);
        api.MapGet("/{**rest}", (HttpContext context) => NotFound(context));
        endpoints.MapGet("/api/{**rest}", (HttpContext context) => NotFound(context));
        endpoints.MapGet("/", (HttpContext context) => StaticFile(context, "index.html"));
        endpoints.MapGet("/static/{name}", (HttpContext context, string name) => StaticFile(context, name));
        return api;
    }

    /// <summary>Writes a 404 problem body naming the path (for a host's fallback route).</summary>
    /// <param name="context">The request.</param>
    /// <returns>The result.</returns>
    public static IResult NotFound(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ProblemResult(new Problem("about:blank", "Not Found", StatusCodes.Status404NotFound, $"No such route: {context.Request.Path}."));
    }

    private static async Task QueryAsync(HttpContext context, QueryEngine engine, IOptions<TailorQueryOptions> options)
    {
        var request = context.Request;
        QueryRequest query;
        try
        {
            var (from, to) = ApiParameters.Range(request, DateTimeOffset.UtcNow);
            var step = ApiParameters.Step(request);
            query = new QueryRequest
            {
                OrgId = ApiParameters.Org(request),
                MetricId = ApiParameters.Metric(request),
                Contexts = ApiParameters.Contexts(request),
                From = from,
                To = to,
                Step = step,
                Aggregations = ApiParameters.Aggregations(request, step is not null),
                AllowPartial = request.Query["partial"] == "true",
                Timeout = options.Value.QueryTimeout,
            };
        }
        catch (ParameterException e)
        {
            await BadParameter(e).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        bounded.CancelAfter(options.Value.QueryTimeout);
        var watch = Stopwatch.StartNew();
        QueryResult result;
        try
        {
            result = await engine.QueryAsync(query, bounded.Token).ConfigureAwait(false);
        }
        catch (QueryException e)
        {
            await Failed(e).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // the client went away: nobody to answer
        }
        catch (OperationCanceledException)
        {
            await TimedOut(options.Value.QueryTimeout).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        using (result)
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.Headers.CacheControl = "no-store";
            await QueryResultJson.WriteAsync(context.Response.Body, result, new QueryJsonOptions
            {
                PageMembers = true,
                FlushEachSeries = true,
                Elapsed = () => watch.Elapsed,
            }, bounded.Token).ConfigureAwait(false);
        }
    }

    private static async Task<IResult> ContextsAsync(HttpContext context, QueryEngine engine, IOptions<TailorQueryOptions> options)
    {
        var request = context.Request;
        uint org;
        ulong metric;
        long from, to;
        try
        {
            org = ApiParameters.Org(request);
            metric = ApiParameters.Metric(request);
            (from, to) = ApiParameters.Range(request, DateTimeOffset.UtcNow);
        }
        catch (ParameterException e)
        {
            return BadParameter(e);
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        bounded.CancelAfter(options.Value.QueryTimeout);
        var watch = Stopwatch.StartNew();
        try
        {
            var listing = await engine.ListSeriesAsync(org, metric, from, to, bounded.Token).ConfigureAwait(false);
            var contexts = listing.Series.Where(s => s.Points > 0)
                .Select(s => new ContextItem(s.Key.ContextKey.ToString(CultureInfo.InvariantCulture), s.Points, s.MinTimestamp, s.MaxTimestamp, Label(s.Metadata.Span)))
                .ToList();
            return HttpResults.Json(new ContextsResponse(org.ToString(CultureInfo.InvariantCulture), metric.ToString(CultureInfo.InvariantCulture), from, to, contexts,
                [.. listing.AbsentWindows.Select(w => new RangeItem(w.StartSeconds, w.EndSeconds))], listing.WindowsRead.Count,
                Math.Round(watch.Elapsed.TotalMilliseconds, 1)), ApiJsonContext.Default.ContextsResponse);
        }
        catch (QueryException e)
        {
            return Failed(e);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            return TimedOut(options.Value.QueryTimeout);
        }
    }

    private static async Task<IResult> WindowsAsync(HttpContext context, QueryEngine engine, QueryStore store, IOptions<TailorQueryOptions> options)
    {
        var request = context.Request;
        long from, to;
        ShardName? shard = null;
        try
        {
            (from, to) = ApiParameters.Range(request, DateTimeOffset.UtcNow);
            var shardText = request.Query["shard"].ToString().Trim();
            if (shardText.Length > 0)
            {
                shard = ShardName.TryParse(shardText, out var parsed)
                    ? parsed
                    : throw new ParameterException("shard", "org-mod-K or org-<id>", $"shard '{shardText}' is not a shard name (org-mod-K or org-<id>).");
            }
        }
        catch (ParameterException e)
        {
            return BadParameter(e);
        }

        var windows = engine.WindowsOf(from, to);
        if (windows.Count > options.Value.MaxWindowsListed)
        {
            return ProblemResult(new Problem("about:blank", "Over a limit", StatusCodes.Status422UnprocessableEntity,
                $"The range holds {windows.Count} windows; at most {options.Value.MaxWindowsListed} are listed at once (TailorQueryOptions.MaxWindowsListed).", Limit: "max_windows_listed"));
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        bounded.CancelAfter(options.Value.QueryTimeout);
        try
        {
            var listed = await WindowListing.ListAsync(store.Store, windows, shard, bounded.Token).ConfigureAwait(false);
            var covered = listed.Select(w => w.Start).ToHashSet();
            return HttpResults.Json(new WindowsResponse(from, to, shard?.Value, listed,
                [.. windows.Where(w => !covered.Contains(w.StartSeconds)).Select(w => new RangeItem(w.StartSeconds, w.EndSeconds))]), ApiJsonContext.Default.WindowsResponse);
        }
        catch (Exception e) when (e is ObjectStoreException or JsonException or IOException)
        {
            return ProblemResult(new Problem("about:blank", "Store failure", StatusCodes.Status502BadGateway, $"Listing the windows failed: {e.Message}"));
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            return TimedOut(options.Value.QueryTimeout);
        }
    }

    private static string? Label(ReadOnlySpan<byte> metadata)
    {
        if (metadata.IsEmpty)
        {
            return null;
        }

        try
        {
            var text = new UTF8Encoding(false, true).GetString(metadata);
            return text.Any(char.IsControl) ? Convert.ToBase64String(metadata) : text;
        }
        catch (DecoderFallbackException)
        {
            return Convert.ToBase64String(metadata);
        }
    }

    private static bool Authorized(HttpRequest request, byte[] expected)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Hashes of equal length compared in constant time: neither the key nor its length leaks through timing.
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    private static IResult Unauthorized(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return ProblemResult(new Problem("about:blank", "Unauthorized", StatusCodes.Status401Unauthorized, "This API needs 'Authorization: Bearer KEY' with the server's key."));
    }

    private static IResult BadParameter(ParameterException e) =>
        ProblemResult(new Problem("about:blank", "Bad parameter", StatusCodes.Status400BadRequest, e.Message, e.Parameter, e.Rule));

    private static IResult TimedOut(TimeSpan timeout) =>
        ProblemResult(new Problem("about:blank", "Over a limit", StatusCodes.Status422UnprocessableEntity,
            $"The query ran longer than {timeout.TotalSeconds:0.#} s; narrow the range, pick fewer contexts or a larger step.", Limit: "timeout"));

    private static IResult Failed(QueryException e) => e.Kind switch
    {
        QueryErrorKind.InvalidRequest => ProblemResult(new Problem("about:blank", "Bad parameter", StatusCodes.Status400BadRequest, e.Message, Rule: "valid query")),
        QueryErrorKind.PointsLimit => ProblemResult(new Problem("about:blank", "Over a limit", StatusCodes.Status422UnprocessableEntity, e.Message, Limit: "max_points")),
        QueryErrorKind.MemoryLimit => ProblemResult(new Problem("about:blank", "Over a limit", StatusCodes.Status422UnprocessableEntity, e.Message, Limit: "max_memory_bytes")),
        QueryErrorKind.Timeout => ProblemResult(new Problem("about:blank", "Over a limit", StatusCodes.Status422UnprocessableEntity, e.Message, Limit: "timeout")),
        _ => ProblemResult(new Problem("about:blank", "Store data unreadable", StatusCodes.Status502BadGateway, e.Message)),
    };

    private static IResult ProblemResult(Problem problem) =>
        HttpResults.Json(problem, ApiJsonContext.Default.Problem, "application/problem+json", problem.Status);

    private static IResult StaticFile(HttpContext context, string name)
    {
        var stream = Resources.GetManifestResourceStream("wwwroot/" + name);
        if (stream is null)
        {
            return NotFound(context);
        }

        var type = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            _ => "text/plain; charset=utf-8",
        };
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return HttpResults.Stream(stream, type);
    }
}
