namespace Tailor.Storage;

/// <summary>A failure the <see cref="FaultInjectingObjectStore"/> can invent.</summary>
public enum InjectedFault
{
    /// <summary>HTTP 503 <c>SlowDown</c>: S3 throttling a hot prefix.</summary>
    SlowDown,

    /// <summary>HTTP 500 <c>InternalError</c>.</summary>
    InternalError,

    /// <summary>HTTP 503 <c>ServiceUnavailable</c>.</summary>
    ServiceUnavailable,

    /// <summary>A connection reset by the peer in the middle of the request.</summary>
    ConnectionReset,

    /// <summary>A request that got no answer in time.</summary>
    Timeout,
}

/// <summary>What a <see cref="FaultInjectingObjectStore"/> does to the calls that pass through it.</summary>
/// <remarks>Read on every call, so a test may change the rates while the store is in use (e.g. to end a game day).</remarks>
public sealed class FaultInjectionOptions
{
    /// <summary>The share of calls of every operation that fail, from 0 to 1. Default 0.</summary>
    public double FailureRate { get; set; }

    /// <summary>Per-operation shares that replace <see cref="FailureRate"/> for those operations. Default: none.</summary>
    public IDictionary<StoreOperation, double> FailureRates { get; } = new Dictionary<StoreOperation, double>();

    /// <summary>The failures to choose from, uniformly. Default: 503 Slow Down, 500 Internal Error and connection reset.</summary>
    public IList<InjectedFault> Faults { get; } = [InjectedFault.SlowDown, InjectedFault.InternalError, InjectedFault.ConnectionReset];

    /// <summary>
    /// The share of injected failures of writes (put, create, upload-part, complete, abort, delete) that
    /// happen after the inner store carried out the call: the request took effect but its answer was lost,
    /// the hardest case for retries. Default 0: every failure happens before the inner call.
    /// </summary>
    public double LostAnswerShare { get; set; }

    /// <summary>Latency added to every call, failed or not. Default zero.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>A random extra latency, uniform in [0, this], added to <see cref="Latency"/>. Default zero.</summary>
    public TimeSpan LatencyJitter { get; set; }

    /// <summary>The random seed: the same seed makes the same decisions for the same sequence of calls. Default 0.</summary>
    public int Seed { get; set; }

    /// <summary>Listings fail (with the listing rate) once per this many keys, as a real listing could between pages. Default 1,000.</summary>
    public int ListPageSize { get; set; } = 1000;

    /// <summary>How uploads through the decorator are cut into parts (each part request can then fail on its own). Default: the defaults of <see cref="MultipartOptions"/>.</summary>
    public MultipartOptions Multipart { get; set; } = new();

    internal double RateOf(StoreOperation operation) => FailureRates.TryGetValue(operation, out var rate) ? rate : FailureRate;
}
