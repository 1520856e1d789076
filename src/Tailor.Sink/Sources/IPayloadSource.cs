namespace Tailor.Sink;

/// <summary>One partition of one topic (or of an in-process source).</summary>
/// <param name="Topic">The topic name.</param>
/// <param name="Partition">The partition number.</param>
public readonly record struct SourcePartition(string Topic, int Partition)
{
    /// <inheritdoc />
    public override string ToString() => $"{Topic}[{Partition}]";
}

/// <summary>A position to commit: the next offset to read in a partition.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Offset">The offset of the first record not yet durable.</param>
public readonly record struct SourceOffset(SourcePartition Partition, long Offset);

/// <summary>One message received from a source.</summary>
/// <remarks>The key and value memory belong to the message and stay valid after the next receive.</remarks>
public readonly struct SourceMessage
{
    /// <summary>Creates a message.</summary>
    public SourceMessage(SourcePartition partition, long offset, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte> value, DateTimeOffset timestamp)
    {
        Partition = partition;
        Offset = offset;
        Key = key;
        Value = value;
        Timestamp = timestamp;
    }

    /// <summary>Where the message comes from.</summary>
    public SourcePartition Partition { get; }

    /// <summary>The message's offset in its partition.</summary>
    public long Offset { get; }

    /// <summary>The message key (the org id, 4 bytes little-endian), or null when the message has none.</summary>
    public ReadOnlyMemory<byte>? Key { get; }

    /// <summary>The message value: one payload's zstd frame.</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>The message timestamp given by the source.</summary>
    public DateTimeOffset Timestamp { get; }
}

/// <summary>
/// Receives the engine's reactions to partition assignment changes. Called on the engine's poll
/// thread, from inside <see cref="IPayloadSource.TryReceive"/>.
/// </summary>
public interface IPayloadSourceListener
{
    /// <summary>Partitions were assigned to this worker.</summary>
    /// <param name="partitions">The newly assigned partitions.</param>
    void OnAssigned(IReadOnlyList<SourcePartition> partitions);

    /// <summary>
    /// Partitions are being taken away in an orderly rebalance. The listener completes and uploads the
    /// segments holding their records and commits their offsets before returning (within its deadline).
    /// </summary>
    /// <param name="partitions">The partitions being revoked.</param>
    void OnRevoking(IReadOnlyList<SourcePartition> partitions);

    /// <summary>
    /// Partitions were lost (this worker was considered dead): their offsets must not be committed
    /// by this worker any more; another worker re-reads them from the last commit.
    /// </summary>
    /// <param name="partitions">The partitions lost.</param>
    void OnLost(IReadOnlyList<SourcePartition> partitions);
}

/// <summary>
/// Where the sink's payloads come from, with offsets acknowledged back. The Kafka consumer group is
/// the product's source (<c>KafkaPayloadSource</c>); <see cref="ChannelPayloadSource"/> lets an
/// application feed payloads in-process.
/// </summary>
/// <remarks>
/// Every member is called on the engine's single poll thread, in the order: <see cref="Start(IPayloadSourceListener)"/>,
/// then any number of the others, then <see cref="Close"/>.
/// </remarks>
public interface IPayloadSource : IDisposable
{
    /// <summary>A name for logs (no secrets).</summary>
    string Name { get; }

    /// <summary>Joins the source (subscribes) and registers the listener for assignment changes.</summary>
    void Start(IPayloadSourceListener listener);

    /// <summary>
    /// Joins the source like <see cref="Start(IPayloadSourceListener)"/>, giving up when
    /// <paramref name="cancellationToken"/> is cancelled (a stop requested while waiting for a broker).
    /// The default ignores the token; a source whose start can wait long overrides it.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled before the source started.</exception>
    void Start(IPayloadSourceListener listener, CancellationToken cancellationToken) => Start(listener);

    /// <summary>Waits up to <paramref name="timeout"/> for the next message.</summary>
    /// <returns>False when none arrived in time.</returns>
    bool TryReceive(TimeSpan timeout, out SourceMessage message, CancellationToken cancellationToken);

    /// <summary>Commits positions (the next offset to read) of partitions this worker owns.</summary>
    /// <returns>False when the source refused the commit (for example after losing the partitions).</returns>
    bool Commit(IReadOnlyList<SourceOffset> offsets);

    /// <summary>Stops delivering messages of these partitions until <see cref="Resume"/>.</summary>
    void Pause(IReadOnlyList<SourcePartition> partitions);

    /// <summary>Delivers messages of these partitions again.</summary>
    void Resume(IReadOnlyList<SourcePartition> partitions);

    /// <summary>Makes the next message of a partition the one at <paramref name="offset"/> (used to re-read after a failed upload).</summary>
    void Seek(SourcePartition partition, long offset);

    /// <summary>The committed position of a partition, or null when none was committed.</summary>
    long? GetCommitted(SourcePartition partition);

    /// <summary>Leaves the source (the consumer group) cleanly.</summary>
    void Close();

    /// <summary>
    /// How far reading trails the end of each partition held now, for the consumer-lag gauge
    /// (<c>tailor.sink.consumer.lag</c>); empty (the default) for a source that has no such notion.
    /// </summary>
    /// <remarks>
    /// Unlike the other members this one is called from any thread (a metrics scrape), so it must not
    /// block on the broker: answer from what the source already knows.
    /// </remarks>
    /// <returns>One entry per partition whose end and position are known; partitions not read yet are left out.</returns>
    IReadOnlyList<PartitionLag> GetLag() => [];
}
