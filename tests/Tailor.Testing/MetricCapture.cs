using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Tailor.Testing;

/// <summary>Records every measurement of one meter (e.g. <c>Tailor.Storage</c>) while it is alive, for assertions.</summary>
/// <remarks>Meters are process-wide: filter by a tag that only your test produces (a store's name, say).</remarks>
public sealed class MetricCapture : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<CapturedMeasurement> _measurements = new();

    /// <summary>Starts listening.</summary>
    /// <param name="meterName">The meter to capture.</param>
    public MetricCapture(string meterName)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Everything captured so far.</summary>
    public IReadOnlyCollection<CapturedMeasurement> Measurements => _measurements;

    /// <summary>The sum of one instrument's measurements whose tags include all the given ones.</summary>
    /// <param name="instrument">The instrument's name.</param>
    /// <param name="tags">Tags that must match, e.g. <c>("store", name)</c>.</param>
    /// <returns>The sum.</returns>
    public double Sum(string instrument, params (string Key, string Value)[] tags) =>
        _measurements.Where(m => m.Instrument == instrument && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && v == t.Value)).Sum(m => m.Value);

    /// <summary>Stops listening.</summary>
    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, string>(tags.Length);
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value?.ToString() ?? string.Empty;
        }

        _measurements.Enqueue(new CapturedMeasurement(instrument.Name, value, copy));
    }
}

/// <summary>One captured measurement.</summary>
/// <param name="Instrument">The instrument's name.</param>
/// <param name="Value">The value.</param>
/// <param name="Tags">The tags, values as strings.</param>
public sealed record CapturedMeasurement(string Instrument, double Value, IReadOnlyDictionary<string, string> Tags);
