using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tailor.Storage;

/// <summary>
/// The <c>Tailor.Storage</c> meter: every request every store makes (each attempt counts, as S3 bills
/// it), and every retry. Hosts subscribe with OpenTelemetry (<c>AddMeter("Tailor.Storage")</c>),
/// <c>dotnet-counters</c> or a <see cref="MeterListener"/>.
/// </summary>
/// <remarks>
/// Tags: <c>store</c> (the store's <see cref="IObjectStore.Name"/>; decorators name themselves, e.g.
/// <c>retry(faults(s3://bucket))</c>, so layers are never mixed), <c>operation</c> (see
/// <see cref="StoreOperation"/>), <c>outcome</c> (<c>success</c>, <c>retried</c>: failed and tried again,
/// <c>failed</c>: failed for good, <c>canceled</c>) and, on retries, <c>error</c> (the store's error code
/// or the failure kind).
/// </remarks>
public static class ObjectStoreMetrics
{
    /// <summary>The meter's name: <c>Tailor.Storage</c>.</summary>
    public const string MeterName = "Tailor.Storage";

    /// <summary>Counter of requests (attempts), tagged store, operation, outcome.</summary>
    public const string RequestsName = "tailor.storage.requests";

    /// <summary>Counter of retries (attempts after a retryable failure), tagged store, operation, error.</summary>
    public const string RetriesName = "tailor.storage.retries";

    /// <summary>Histogram of request durations in seconds, tagged store, operation, outcome.</summary>
    public const string DurationName = "tailor.storage.request.duration";

    /// <summary>The <c>outcome</c> tag of a request that succeeded.</summary>
    public const string Success = "success";

    /// <summary>The <c>outcome</c> tag of a request that failed and was tried again.</summary>
    public const string Retried = "retried";

    /// <summary>The <c>outcome</c> tag of a request that failed and was not tried again.</summary>
    public const string Failed = "failed";

    /// <summary>The <c>outcome</c> tag of a request cancelled by its caller.</summary>
    public const string Canceled = "canceled";

    private static readonly Meter Meter = new(MeterName, typeof(ObjectStoreMetrics).Assembly.GetName().Version?.ToString());
    private static readonly Counter<long> Requests = Meter.CreateCounter<long>(RequestsName, "{request}", "Object store requests, one per attempt.");
    private static readonly Counter<long> Retries = Meter.CreateCounter<long>(RetriesName, "{retry}", "Object store requests repeated after a transient failure.");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(DurationName, "s", "Object store request durations.");

    internal static void RecordRequest(string store, StoreOperation operation, string outcome, long startTimestamp)
    {
        var tags = new TagList
        {
            { "store", store },
            { "operation", operation.ToTagValue() },
            { "outcome", outcome },
        };
        Requests.Add(1, tags);
        Duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
    }

    internal static void RecordRetry(string store, StoreOperation operation, string error)
    {
        Retries.Add(1, new TagList
        {
            { "store", store },
            { "operation", operation.ToTagValue() },
            { "error", error },
        });
    }
}
