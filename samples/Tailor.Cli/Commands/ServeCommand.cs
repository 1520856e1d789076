using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tailor.Management;
using Tailor.Query;
using Tailor.Query.AspNetCore;
using Tailor.Storage;

namespace Tailor.Cli.Commands;

/// <summary>
/// <c>tailor serve --store URI</c>: the query API over HTTP, the explorer page, <c>/healthz</c>,
/// <c>/readyz</c> and <c>/metrics</c>, until Ctrl-C or SIGTERM.
/// </summary>
/// <remarks>Output: one line <c>serving URL store NAME</c> on stdout once it listens; the log goes to stderr.</remarks>
internal static class ServeCommand
{
    /// <summary>The default address: loopback only.</summary>
    public const string DefaultUrls = "http://127.0.0.1:8080";

    public static Command Create()
    {
        var store = CompactionArguments.Store();
        var urls = new Option<string>("--urls") { Description = "Where to listen, separated by ';' (a loopback address answers this machine only; port 0 takes a free one).", DefaultValueFactory = _ => DefaultUrls };
        var apiKeyFile = new Option<string?>("--api-key-file") { Description = "A file holding the key every /api/v1/ call must send as 'Authorization: Bearer KEY' (default: no key). /healthz, /readyz, /metrics and the page stay open." };
        var timeout = new Option<string>("--query-timeout") { Description = "How long one query may take before it answers 422.", DefaultValueFactory = _ => "30s" };
        var cors = new Option<string[]>("--cors-origin") { Description = "An origin whose pages may call the API (CORS), e.g. https://grafana.example.com; repeat for more (default: none, CORS off).", AllowMultipleArgumentsPerToken = false };
        var verbose = new Option<bool>("--verbose") { Description = "Log at Information level on stderr; without it, only warnings and errors." };
        var shards = new Option<int>("--shards") { Description = "Shared shards of the store's shard map.", DefaultValueFactory = _ => ShardMap.DefaultSharedShards };
        var windowLength = new Option<string>("--window-length") { Description = "The store's compaction window length.", DefaultValueFactory = _ => "4h" };
        var maxPoints = new Option<long>("--max-points") { Description = "The most points (or bucket rows) one query may return before it answers 422.", DefaultValueFactory = _ => 50_000_000 };
        var command = new Command("serve", """
            Serve the store's history over HTTP: GET /api/v1/query (the parameters of 'tailor query': org,
            metric, context repeated, from, to, step, agg; JSON columns, streamed), /api/v1/contexts and
            /api/v1/windows; an explorer page with charts at /; /healthz, /readyz and /metrics (Prometheus).
            Bad input answers 400 and a query over its limits 422, with a JSON problem body (RFC 9457).

            Examples:
              tailor serve --store file:///tmp/tailor-data
              tailor serve --store s3://metrics/prod --urls http://0.0.0.0:8080 --api-key-file /etc/tailor/key
            """)
        {
            store,
            urls,
            apiKeyFile,
            timeout,
            cors,
            verbose,
            shards,
            windowLength,
            maxPoints,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var keyFile = parse.GetValue(apiKeyFile);
            string? key = null;
            if (keyFile is not null)
            {
                if (!File.Exists(keyFile))
                {
                    throw new CliException($"--api-key-file: no such file: {keyFile}", ExitCodes.BadArguments);
                }

                key = (await File.ReadAllTextAsync(keyFile, cancellationToken)).Trim();
                if (key.Length < 16)
                {
                    throw new CliException($"--api-key-file {keyFile}: the key must have at least 16 characters.", ExitCodes.BadArguments);
                }
            }

            ManagementArguments.CheckHttpUrls(parse.GetValue(urls)!, "--urls", DefaultUrls);
            var queryTimeout = CompactionArguments.ParseDuration(parse.GetValue(timeout)!, "--query-timeout");
            if (parse.GetValue(shards) is < 1 or > ShardMap.MaxSharedShards)
            {
                throw new CliException($"--shards must be between 1 and {ShardMap.MaxSharedShards}.", ExitCodes.BadArguments);
            }

            if (parse.GetValue(maxPoints) < 1)
            {
                throw new CliException("--max-points must be at least 1.", ExitCodes.BadArguments);
            }

            var engine = new QueryEngineOptions
            {
                ShardMap = new ShardMap(parse.GetValue(shards)),
                WindowLength = CompactionArguments.ParseDuration(parse.GetValue(windowLength)!, "--window-length"),
                MaxPoints = parse.GetValue(maxPoints),
            };
            await using var objects = CompactionArguments.OpenStore(parse.GetValue(store)!, mustExist: true);
            return await RunAsync(objects, engine, parse.GetValue(urls)!, key, queryTimeout, parse.GetValue(cors) ?? [], parse.GetValue(verbose), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(IObjectStore store, QueryEngineOptions engine, string urls, string? key, TimeSpan timeout, string[] origins, bool verbose, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "tailor" });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        }).AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.UseUrls(urls);
        builder.Services.AddTailorQuery(store, o =>
        {
            o.ApiKey = key;
            o.QueryTimeout = timeout;
            foreach (var origin in origins)
            {
                o.CorsOrigins.Add(origin);
            }
        }, engine);
        if (origins.Length > 0)
        {
            builder.Services.AddCors();
        }

        builder.Services.AddTailorTelemetry().AddCheck("store", new StoreReadinessCheck(() => store), tags: [ManagementEndpointRouteBuilderExtensions.ReadyTag]);
        await using var app = builder.Build();

        // Any failure the endpoints did not answer themselves: a problem body, never a stack trace.
        app.UseExceptionHandler(error => error.Run(context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.ContentType = "application/problem+json";
            return context.Response.WriteAsync("{\"type\":\"about:blank\",\"title\":\"Internal error\",\"status\":500,\"detail\":\"The server failed; its log says why.\"}");
        }));
        app.MapTailorManagement();
        app.MapTailorQuery();
        app.MapFallback(TailorQueryEndpointRouteBuilderExtensions.NotFound);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            throw new CliException($"--urls {urls}: {e.Message}", ExitCodes.Failure);
        }

        await Console.Out.WriteLineAsync($"serving {string.Join(' ', app.Urls)} store {store.Name}");
        await Console.Out.FlushAsync(cancellationToken);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        await app.StopAsync(CancellationToken.None);
        return ExitCodes.Success;
    }
}
