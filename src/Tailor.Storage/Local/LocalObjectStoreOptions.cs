using Microsoft.Extensions.Logging;

namespace Tailor.Storage;

/// <summary>Options of a <see cref="LocalObjectStore"/>.</summary>
public sealed class LocalObjectStoreOptions
{
    /// <summary>Create the root folder (and its parents) when it does not exist. Default <see langword="true"/>; when <see langword="false"/> a missing root is <see cref="ObjectStoreErrorKind.BucketNotFound"/>.</summary>
    public bool CreateRoot { get; set; } = true;

    /// <summary>
    /// Flush every written object to the disk (fsync) before it becomes visible, so a completed write
    /// survives a power loss as an S3 write would. Default <see langword="true"/>.
    /// </summary>
    public bool FlushToDisk { get; set; } = true;

    /// <summary>Where warnings (e.g. a temporary file that could not be removed) go. Default: nowhere.</summary>
    public ILogger? Logger { get; set; }
}
