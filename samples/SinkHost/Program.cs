using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Tailor.Management;
using Tailor.Sink.Hosting;

// One sink worker in a Generic Host. Configuration comes from appsettings.json, environment variables
// (Tailor__Sink__Kafka__BootstrapServers=broker:9092, Tailor__Sink__Kafka__Topics=a,b) and the command
// line (--Tailor:Sink:Store=file:///data); Ctrl-C or SIGTERM stops it gracefully.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddTailorSink(builder.Configuration.GetSection("Tailor:Sink"));

// /healthz, /readyz (the store answers and the worker holds partitions) and /metrics on the management
// port (Tailor:Management:Urls; remove the key to serve nothing).
builder.Services.AddTailorManagement(builder.Configuration.GetSection("Tailor:Management"))
    .AddCheck<SinkStoreCheck>("store", HealthStatus.Unhealthy, [ManagementEndpointRouteBuilderExtensions.ReadyTag])
    .AddCheck<SinkPartitionsCheck>("sink", HealthStatus.Unhealthy, [ManagementEndpointRouteBuilderExtensions.ReadyTag]);

// A stop completes, uploads and commits; give it longer than the engine's StopDeadline (60 s by default).
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(90));
await builder.Build().RunAsync();

/// <summary>Ready when the store the worker opened answers.</summary>
internal sealed class SinkStoreCheck(SinkWorkerService sink) : IHealthCheck
{
    private readonly StoreReadinessCheck _check = new(() => sink.Store);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        _check.CheckHealthAsync(context, cancellationToken);
}

/// <summary>Ready when the consumer group assigned the worker at least one partition.</summary>
internal sealed class SinkPartitionsCheck(SinkWorkerService sink) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(sink.AssignedPartitions > 0
            ? HealthCheckResult.Healthy($"{sink.AssignedPartitions} partitions assigned.")
            : HealthCheckResult.Unhealthy("No partitions assigned yet."));
}
