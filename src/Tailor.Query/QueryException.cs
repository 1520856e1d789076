namespace Tailor.Query;

/// <summary>A query failed: a bad request, a limit, a timeout, a damaged or missing object, or a store error.</summary>
/// <remarks>The message says what went wrong and where (the object key, shard and window when there is one) and
/// never holds credentials.</remarks>
public sealed class QueryException : Exception
{
    /// <summary>Creates an exception.</summary>
    /// <param name="kind">Why the query failed.</param>
    /// <param name="message">What went wrong and where.</param>
    /// <param name="key">The object key at fault, if any.</param>
    /// <param name="innerException">The cause, if any.</param>
    public QueryException(QueryErrorKind kind, string message, string? key = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        Key = key;
    }

    /// <summary>Creates an exception of kind <see cref="QueryErrorKind.InvalidRequest"/>.</summary>
    public QueryException()
        : this(QueryErrorKind.InvalidRequest, "The query failed.")
    {
    }

    /// <summary>Creates an exception of kind <see cref="QueryErrorKind.InvalidRequest"/>.</summary>
    /// <param name="message">What went wrong.</param>
    public QueryException(string message)
        : this(QueryErrorKind.InvalidRequest, message)
    {
    }

    /// <summary>Creates an exception of kind <see cref="QueryErrorKind.Store"/>.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public QueryException(string message, Exception innerException)
        : this(QueryErrorKind.Store, message, null, innerException)
    {
    }

    /// <summary>Why the query failed.</summary>
    public QueryErrorKind Kind { get; }

    /// <summary>The object (manifest or part) at fault, when the failure concerns one.</summary>
    public string? Key { get; }
}
