using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tailor.Sink.Kafka;
using Tailor.Storage;

namespace Tailor.Sink.Hosting;

/// <summary>
/// A sink worker as a hosted <see cref="BackgroundService"/>: opens the store, joins the consumer
/// group and runs a <see cref="SinkEngine"/> until the host stops, then completes, uploads and
/// commits what it holds and leaves the group.
/// </summary>
/// <remarks>
/// <para>The store is the <see cref="IObjectStore"/> registered in the container when there is one
/// (the container owns it), otherwise opened from <see cref="SinkWorkerOptions.Store"/> (and disposed
/// here). Likewise the source: a registered <see cref="IPayloadSource"/> (for example a
/// <see cref="ChannelPayloadSource"/> an application writes to), else a <see cref="KafkaPayloadSource"/>
/// built from <see cref="SinkWorkerOptions.Kafka"/>.</para>
/// <para>When the engine fails (a broker that never answered, a rebalance handler that threw) the
/// failure is logged and rethrown, so the host's <c>BackgroundServiceExceptionBehavior</c>
/// decides (by default it stops the host).</para>
/// </remarks>
public sealed class SinkWorkerService : BackgroundService
{
    private readonly IOptions<SinkWorkerOptions> _options;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private SinkEngine? _engine;
    private IObjectStore? _store;

    /// <summary>Creates the service; the container calls this.</summary>
    /// <param name="options">The worker's options.</param>
    /// <param name="services">Where an optional <see cref="IObjectStore"/> or <see cref="IPayloadSource"/> is looked up.</param>
    /// <param name="loggers">Where the engine, the source and the store log; <see langword="null"/> discards.</param>
    public SinkWorkerService(IOptions<SinkWorkerOptions> options, IServiceProvider services, ILoggerFactory? loggers = null)
    {
        _options = options;
        _services = services;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<SinkWorkerService>();
    }

    /// <summary>The engine's counters while it runs (and after it stopped); <see langword="null"/> before it started.</summary>
    public SinkStatus? Status => _engine?.Status;

    /// <summary>The writer id of the running engine; <see langword="null"/> before it started.</summary>
    public ulong? WriterId => _engine?.WriterId;

    /// <summary>The partitions the running engine holds now; 0 before it started (see <see cref="SinkEngine.AssignedPartitions"/>).</summary>
    public int AssignedPartitions => _engine?.AssignedPartitions ?? 0;

    /// <summary>The store the worker writes to while it runs (for a readiness check); <see langword="null"/> before it started and after it stopped.</summary>
    public IObjectStore? Store => Volatile.Read(ref _store);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var registeredStore = _services.GetService<IObjectStore>();
        var registeredSource = _services.GetService<IPayloadSource>();
        IObjectStore? store = null;
        IPayloadSource? source = null;
        try
        {
            var options = _options.Value;
            options.Validate(needStore: registeredStore is null, needKafka: registeredSource is null);
            store = registeredStore ?? ObjectStoreFactory.Open(options.Store!, new ObjectStoreOptions { S3 = { Logger = _loggers.CreateLogger("Tailor.Storage") } });
            Volatile.Write(ref _store, store);
            source = registeredSource ?? new KafkaPayloadSource(options.Kafka, _loggers.CreateLogger<KafkaPayloadSource>());
            var engine = new SinkEngine(options.Engine, store, source, _loggers.CreateLogger<SinkEngine>());
            await using (engine.ConfigureAwait(false))
            {
                _engine = engine;
                await engine.RunAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            _logger.LogCritical(e, "The sink worker failed: {Reason}", e.Message);
            throw;
        }
        finally
        {
            Volatile.Write(ref _store, null);
            if (registeredSource is null)
            {
                source?.Dispose();
            }

            if (registeredStore is null && store is not null)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
