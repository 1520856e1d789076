using System.Buffers;
using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Storage;

namespace Tailor.Sink;

/// <summary>
/// Writes payloads straight into segment files in a store, routed by org through the shard map and
/// rotated like the sink does, with no Kafka in between — for <c>tailor gen --store</c>, tests and
/// benchmarks. Time is the payloads' intake time, so segment keys and rotations follow the data.
/// </summary>
/// <remarks>Not thread-safe. Each shard's open segment is held in memory until it rotates (at most <see cref="SinkOptions.MaxSegmentBytes"/>).</remarks>
public sealed class DirectSegmentWriter : IAsyncDisposable
{
    private readonly IObjectStore _store;
    private readonly SinkOptions _options;
    private readonly PayloadDecoder _decoder;
    private readonly Dictionary<ShardName, Open> _open = [];
    private readonly List<Task> _uploads = [];
    private ulong _sequence;

    /// <summary>Creates a writer.</summary>
    /// <param name="store">Where segments go.</param>
    /// <param name="options">Shard map, rotation (age, payloads, size), writer id, key spread; the rest is ignored.</param>
    public DirectSegmentWriter(IObjectStore store, SinkOptions? options = null)
    {
        _options = options ?? new SinkOptions();
        _options.Validate();
        _store = store;
        _decoder = new PayloadDecoder(_options.MaxPayloadBytes);
        WriterId = _options.WriterId ?? ObjectKeys.NewWriterId();
    }

    /// <summary>The writer id in every key.</summary>
    public ulong WriterId { get; }

    /// <summary>Payloads written.</summary>
    public long Payloads { get; private set; }

    /// <summary>Points written.</summary>
    public long Points { get; private set; }

    /// <summary>Segments uploaded.</summary>
    public long Segments { get; private set; }

    /// <summary>Segment bytes uploaded.</summary>
    public long Bytes { get; private set; }

    /// <summary>The keys of the segments written.</summary>
    public List<string> Keys { get; } = [];

    /// <summary>Adds one payload frame; invalid payloads throw.</summary>
    /// <exception cref="InvalidDataException">The frame is not a valid payload.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken = default)
    {
        var status = _decoder.TryValidate(frame.Span, out var summary);
        if (status != PayloadStatus.Ok)
        {
            throw new InvalidDataException($"Not a valid payload: {status}.");
        }

        var now = DateTimeOffset.FromUnixTimeMilliseconds(summary.IntakeTime / 1_000_000);
        var shard = _options.ShardMap.Route(summary.OrgId);
        if (_open.TryGetValue(shard, out var open) && now - open.OpenedAt >= _options.MaxSegmentAge)
        {
            await RotateAsync(shard, open, cancellationToken).ConfigureAwait(false);
            open = null;
        }

        if (open is null)
        {
            var buffer = new ArrayBufferWriter<byte>(64 * 1024);
            var sequence = ++_sequence;
            var writer = new SegmentWriter(buffer, new SegmentWriterOptions
            {
                WriterId = WriterId,
                Sequence = sequence,
                OpenedAt = now.ToUnixTimeMilliseconds(),
                BlockTargetBytes = _options.BlockTargetBytes,
            });
            open = new Open(ObjectKeys.Segment(shard, now, WriterId, (long)sequence, _options.KeySpreadDigits), now, buffer, writer);
            _open[shard] = open;
        }

        open.Writer.Append(frame.Span, summary);
        Payloads++;
        Points += summary.PointCount;
        if (open.Writer.RecordCount >= _options.MaxSegmentPayloads || open.Writer.Length >= _options.MaxSegmentBytes)
        {
            await RotateAsync(shard, open, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Completes and uploads every open segment.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        foreach (var (shard, open) in _open.ToList())
        {
            await RotateAsync(shard, open, cancellationToken).ConfigureAwait(false);
        }

        await Task.WhenAll(_uploads).ConfigureAwait(false);
        _uploads.Clear();
    }

    /// <summary>Flushes and releases the decoder.</summary>
    public async ValueTask DisposeAsync()
    {
        await FlushAsync().ConfigureAwait(false);
        _decoder.Dispose();
    }

    private async Task RotateAsync(ShardName shard, Open open, CancellationToken cancellationToken)
    {
        _open.Remove(shard);
        open.Writer.Complete();
        Segments++;
        Bytes += open.Buffer.WrittenCount;
        Keys.Add(open.Key);
        _uploads.Add(_store.PutAsync(open.Key, open.Buffer.WrittenMemory, cancellationToken));
        if (_uploads.Count >= 8)
        {
            await Task.WhenAll(_uploads).ConfigureAwait(false);
            _uploads.Clear();
        }
    }

    private sealed record Open(string Key, DateTimeOffset OpenedAt, ArrayBufferWriter<byte> Buffer, SegmentWriter Writer);
}
