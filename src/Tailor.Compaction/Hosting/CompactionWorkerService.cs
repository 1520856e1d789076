using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tailor.Storage;

namespace Tailor.Compaction.Hosting;

/// <summary>
/// A <see cref="CompactionWorker"/> as a hosted <see cref="BackgroundService"/>: opens the store, joins
/// the jobs consumer group and runs jobs until the host stops, then lets the running job finish (up to
/// <see cref="CompactionWorkerOptions.StopTimeout"/>), commits and leaves the group.
/// </summary>
/// <remarks>
/// The store is the <see cref="IObjectStore"/> registered in the container when there is one (the
/// container owns it), otherwise opened from <see cref="CompactionWorkerOptions.Store"/> and disposed
/// here. When the worker fails (no broker answered, a fatal consumer error) the failure is logged and
/// rethrown, so the host's <c>BackgroundServiceExceptionBehavior</c> decides (by default it stops the host).
/// </remarks>
public sealed class CompactionWorkerService : BackgroundService
{
    private readonly IOptions<CompactionWorkerOptions> _options;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private CompactionWorker? _worker;
    private IObjectStore? _store;

    /// <summary>Creates the service; the container calls this.</summary>
    /// <param name="options">The worker's options.</param>
    /// <param name="services">Where an optional <see cref="IObjectStore"/> is looked up.</param>
    /// <param name="loggers">Where the worker, the runner and the store log; <see langword="null"/> drops it.</param>
    public CompactionWorkerService(IOptions<CompactionWorkerOptions> options, IServiceProvider services, ILoggerFactory? loggers = null)
    {
        _options = options;
        _services = services;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<CompactionWorkerService>();
    }

    /// <summary>The worker's counters; <see langword="null"/> before it started.</summary>
    public CompactionWorkerStatus? Status => _worker?.Status;

    /// <summary>The store the worker reads and writes while it runs (for a readiness check); <see langword="null"/> before it started and after it stopped.</summary>
    public IObjectStore? Store => Volatile.Read(ref _store);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var registered = _services.GetService<IObjectStore>();
        IObjectStore? store = null;
        try
        {
            var options = _options.Value;
            if (registered is null && string.IsNullOrWhiteSpace(options.Store))
            {
                throw new InvalidOperationException("The compaction worker has no store: set Store (file:///path or s3://bucket/prefix) or register an IObjectStore.");
            }

            store = registered ?? ObjectStoreFactory.Open(options.Store!, new ObjectStoreOptions { S3 = { Logger = _loggers.CreateLogger("Tailor.Storage") } });
            Volatile.Write(ref _store, store);
            _worker = new CompactionWorker(store, options, _loggers);
            await _worker.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            _logger.LogCritical(e, "The compaction worker failed: {Reason}", e.Message);
            throw;
        }
        finally
        {
            Volatile.Write(ref _store, null);
            if (registered is null && store is not null)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
