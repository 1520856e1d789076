namespace Tailor.Compaction;

/// <summary>A compaction job failed for a reason its message states (full disk, unreadable input, …); nothing was published.</summary>
public sealed class CompactionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CompactionException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public CompactionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public CompactionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
