using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Tailor.Storage;

namespace Tailor.Sink.Tests.Integration;

/// <summary>Collects the measurements of one meter while it lives.</summary>
internal sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();

    public MeterRecorder(string meterName)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
        _listener.Start();
    }

    /// <summary>The sum of an instrument's measurements, optionally only those with a tag value.</summary>
    public double Sum(string instrument, string? tag = null, string? value = null) =>
        Select(instrument, tag, value).Sum(m => m.Value);

    /// <summary>How many measurements an instrument recorded (histograms: how many values).</summary>
    public int Count(string instrument, string? tag = null, string? value = null) => Select(instrument, tag, value).Count();

    public string Describe() => string.Join(", ", _measurements.GroupBy(m => m.Instrument).Select(g => $"{g.Key}={g.Sum(m => m.Value)} ({g.Count()})"));

    public void Dispose() => _listener.Dispose();

    private IEnumerable<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> Select(string instrument, string? tag, string? value) =>
        _measurements.Where(m => m.Instrument == instrument && (tag is null || m.Tags.Any(t => t.Key == tag && Equals(t.Value?.ToString(), value))));
}

/// <summary>Passes every call to a store and records the key of every object written, to prove no key is written twice.</summary>
internal sealed class RecordingStore(IObjectStore inner) : IObjectStore
{
    private readonly ConcurrentQueue<string> _writes = new();

    public IReadOnlyList<string> Writes => [.. _writes];

    public string Name => inner.Name;

    public StoreCapabilities Capabilities => inner.Capabilities;

    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) => inner.GetInfoAsync(key, cancellationToken);

    public Task<Stream> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default) =>
        inner.OpenReadAsync(key, offset, length, cancellationToken);

    public Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(key, offset, destination, cancellationToken);

    public Task<ObjectInfo> PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        _writes.Enqueue(key);
        return inner.PutAsync(key, content, cancellationToken);
    }

    public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        _writes.Enqueue(key);
        return inner.TryCreateAsync(key, content, cancellationToken);
    }

    public Task<IMultipartUpload> StartUploadAsync(string key, CancellationToken cancellationToken = default)
    {
        _writes.Enqueue(key);
        return inner.StartUploadAsync(key, cancellationToken);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
