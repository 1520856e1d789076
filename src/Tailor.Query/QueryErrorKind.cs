namespace Tailor.Query;

/// <summary>Why a query failed.</summary>
public enum QueryErrorKind
{
    /// <summary>The request is not valid (a range that ends before it starts, a bad step, aggregations without a step); the message names the member.</summary>
    InvalidRequest,

    /// <summary>The query would return more points (raw points or bucket rows) than <see cref="QueryEngineOptions.MaxPoints"/>.</summary>
    PointsLimit,

    /// <summary>The query would hold more bytes than <see cref="QueryEngineOptions.MaxMemoryBytes"/>.</summary>
    MemoryLimit,

    /// <summary>The query ran longer than its timeout.</summary>
    Timeout,

    /// <summary>A manifest is not a readable Tailor manifest.</summary>
    DamagedManifest,

    /// <summary>An S-file part is damaged (a checksum, a length or an offset is wrong); the error names the part.</summary>
    DamagedPart,

    /// <summary>A part a manifest names does not exist in the store (deleted, or the window was recompacted and the old generation removed).</summary>
    MissingObject,

    /// <summary>The store failed a call after its retries (see the inner exception).</summary>
    Store,
}
