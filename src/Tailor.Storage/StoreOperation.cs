namespace Tailor.Storage;

/// <summary>
/// One kind of request an object store makes. S3 bills per request, so every attempt of every
/// operation is counted on the <c>Tailor.Storage</c> meter under the tag value shown for each member.
/// </summary>
public enum StoreOperation
{
    /// <summary>One page of a listing (<c>list</c>).</summary>
    List,

    /// <summary>A read of an object or a byte range of it (<c>get</c>).</summary>
    Get,

    /// <summary>A metadata read: size, ETag, last modified (<c>head</c>).</summary>
    Head,

    /// <summary>A single-request write of a whole object (<c>put</c>).</summary>
    Put,

    /// <summary>A conditional create that must not replace an existing object (<c>create</c>).</summary>
    Create,

    /// <summary>The start of a multipart upload (<c>initiate</c>).</summary>
    InitiateUpload,

    /// <summary>The upload of one part of a multipart upload (<c>upload-part</c>).</summary>
    UploadPart,

    /// <summary>The completion of a multipart upload, which makes the object visible (<c>complete</c>).</summary>
    CompleteUpload,

    /// <summary>The abort of a multipart upload, which discards its parts (<c>abort</c>).</summary>
    AbortUpload,

    /// <summary>The deletion of an object (<c>delete</c>).</summary>
    Delete,
}

/// <summary>Names of <see cref="StoreOperation"/> values as they appear in logs and metric tags.</summary>
public static class StoreOperationNames
{
    /// <summary>The lower-case, dash-separated name of <paramref name="operation"/>, e.g. <c>upload-part</c>.</summary>
    /// <param name="operation">The operation to name.</param>
    /// <returns>A constant string; never allocates.</returns>
    public static string ToTagValue(this StoreOperation operation) => operation switch
    {
        StoreOperation.List => "list",
        StoreOperation.Get => "get",
        StoreOperation.Head => "head",
        StoreOperation.Put => "put",
        StoreOperation.Create => "create",
        StoreOperation.InitiateUpload => "initiate",
        StoreOperation.UploadPart => "upload-part",
        StoreOperation.CompleteUpload => "complete",
        StoreOperation.AbortUpload => "abort",
        StoreOperation.Delete => "delete",
        _ => "unknown",
    };
}
