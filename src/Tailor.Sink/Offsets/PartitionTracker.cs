using Tailor.Sink.Segments;

namespace Tailor.Sink.Offsets;

/// <summary>
/// The offsets of one partition between receipt and durability: runs of consecutive offsets that
/// went to the same segment (or dead-letter object), in arrival order. The commit point is the first
/// offset whose object is not durable yet, so a crash at any instant can only re-read, never lose.
/// </summary>
/// <remarks>Used on the engine's poll thread only.</remarks>
internal sealed class PartitionTracker(SourcePartition partition, long? committed)
{
    private readonly Queue<Run> _runs = new();
    private Run _tail;
    private bool _hasTail;

    public SourcePartition Partition { get; } = partition;

    /// <summary>The last position committed (or found committed at assignment).</summary>
    public long? Committed { get; set; } = committed;

    /// <summary>The first offset received since assignment or the last rewind.</summary>
    public long? FirstReceived { get; private set; }

    /// <summary>The offset after the last one received.</summary>
    public long NextExpected { get; private set; } = -1;

    /// <summary>Records received and not yet durable (or not yet committed past).</summary>
    public int PendingRuns => _runs.Count + (_hasTail ? 1 : 0);

    public void Add(long offset, DurabilityTicket ticket)
    {
        FirstReceived ??= offset;
        NextExpected = offset + 1;
        if (_hasTail && ReferenceEquals(_tail.Ticket, ticket) && _tail.Last + 1 == offset)
        {
            _tail = _tail with { Last = offset };
            return;
        }

        if (_hasTail)
        {
            _runs.Enqueue(_tail);
        }

        _tail = new Run(ticket, offset, offset);
        _hasTail = true;
    }

    /// <summary>The position to commit: the first offset not durable, or the next expected when all are.</summary>
    /// <returns>Null when nothing was received since the last rewind.</returns>
    public long? CommitPoint()
    {
        while (_runs.Count > 0 && _runs.Peek().Ticket.IsDurable)
        {
            _runs.Dequeue();
        }

        if (_runs.Count > 0)
        {
            return _runs.Peek().First;
        }

        if (_hasTail)
        {
            if (!_tail.Ticket.IsDurable)
            {
                return _tail.First;
            }

            _hasTail = false;
        }

        return NextExpected >= 0 ? NextExpected : null;
    }

    /// <summary>Forgets every record received; returns where reading must start again.</summary>
    public long? Rewind()
    {
        var restart = Committed ?? FirstReceived;
        _runs.Clear();
        _hasTail = false;
        FirstReceived = null;
        NextExpected = -1;
        return restart;
    }

    private readonly record struct Run(DurabilityTicket Ticket, long First, long Last);
}
