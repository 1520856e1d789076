namespace Tailor.Storage;

/// <summary>What a store knows about one stored object.</summary>
/// <param name="Key">The object's key relative to the store's root (never including the store's own prefix).</param>
/// <param name="Size">The object's length in bytes.</param>
/// <param name="ETag">
/// An opaque version tag that changes whenever the object is replaced: the S3 ETag without quotes, or
/// for a local folder a tag built from size and modification time. <see langword="null"/> when the store
/// did not report one.
/// </param>
/// <param name="LastModified">
/// When the object was last written, as the store reports it (for a just-written object, the client's
/// clock when the write completed).
/// </param>
public sealed record ObjectInfo(string Key, long Size, string? ETag, DateTimeOffset LastModified);
