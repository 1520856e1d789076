using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Tailor.Compaction.Hosting;
using Tailor.Management;

// One compaction worker in a Generic Host. Configuration comes from appsettings.json, environment
// variables (Tailor__Compaction__BootstrapServers=broker:9092, Tailor__Compaction__Store=file:///data)
// and the command line (--Tailor:Compaction:GroupId=tailor-compaction); Ctrl-C or SIGTERM stops it
// gracefully: the running job may finish, its offset is committed, the group is left.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddTailorCompactionWorker(builder.Configuration.GetSection("Tailor:Compaction"));

// /healthz, /readyz (the store answers and the worker joined the jobs group) and /metrics on the
// management port (Tailor:Management:Urls; remove the key to serve nothing).
builder.Services.AddTailorManagement(builder.Configuration.GetSection("Tailor:Management"))
    .AddCheck<WorkerStoreCheck>("store", HealthStatus.Unhealthy, [ManagementEndpointRouteBuilderExtensions.ReadyTag])
    .AddCheck<WorkerJoinedCheck>("worker", HealthStatus.Unhealthy, [ManagementEndpointRouteBuilderExtensions.ReadyTag]);

// Longer than the worker's StopTimeout (20 s by default), so a stop can finish and commit the running job.
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(45));
await builder.Build().RunAsync();

/// <summary>Ready when the store the worker opened answers.</summary>
internal sealed class WorkerStoreCheck(CompactionWorkerService worker) : IHealthCheck
{
    private readonly StoreReadinessCheck _check = new(() => worker.Store);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        _check.CheckHealthAsync(context, cancellationToken);
}

/// <summary>Ready when the worker is a member of the jobs group (with or without partitions).</summary>
internal sealed class WorkerJoinedCheck(CompactionWorkerService worker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(worker.Status is { Joined: true } status
            ? HealthCheckResult.Healthy($"Joined; {status.AssignedPartitions} partitions assigned.")
            : HealthCheckResult.Unhealthy("Not a member of the jobs group yet."));
}
