namespace Tailor.Sink.Segments;

/// <summary>
/// Whether the records that went into one segment (or one dead-letter object) are durable. Offsets
/// are committed only past records whose ticket is durable.
/// </summary>
internal sealed class DurabilityTicket
{
    private const int Pending = 0;
    private const int DurableState = 1;
    private const int FailedState = 2;
    private int _state;

    public DurabilityTicket(string key) => Key = key;

    /// <summary>The object the records go to.</summary>
    public string Key { get; }

    public bool IsDurable => Volatile.Read(ref _state) == DurableState;

    public bool IsFailed => Volatile.Read(ref _state) == FailedState;

    public bool IsSettled => Volatile.Read(ref _state) != Pending;

    public Exception? Failure { get; private set; }

    public void SetDurable() => Interlocked.CompareExchange(ref _state, DurableState, Pending);

    public void SetFailed(Exception failure)
    {
        Failure = failure;
        Interlocked.CompareExchange(ref _state, FailedState, Pending);
    }
}
