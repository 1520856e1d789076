namespace Tailor.Storage;

/// <summary>Options for <see cref="ObjectStoreFactory.Open(string, ObjectStoreOptions?)"/>: one set per kind of store.</summary>
public sealed class ObjectStoreOptions
{
    /// <summary>Options of local stores. Default: the defaults of <see cref="LocalObjectStoreOptions"/>.</summary>
    public LocalObjectStoreOptions Local { get; set; } = new();

    /// <summary>
    /// Options of S3 stores. The URI's <c>endpoint</c>, <c>region</c> and <c>conditional-create</c>
    /// parameters override these (on a copy; this object is not changed). Default: the defaults of
    /// <see cref="S3ObjectStoreOptions"/>.
    /// </summary>
    public S3ObjectStoreOptions S3 { get; set; } = new();
}

/// <summary>Opens stores from URIs: <c>file:///path</c> and <c>s3://bucket/prefix?endpoint=URL</c>.</summary>
public static class ObjectStoreFactory
{
    /// <summary>Opens the store a URI names.</summary>
    /// <param name="uri">The store URI (see <see cref="StoreUri"/>).</param>
    /// <param name="options">Options; <see langword="null"/> takes the defaults.</param>
    /// <returns>A store the caller owns and must dispose.</returns>
    /// <exception cref="FormatException">The URI is not valid; the message says why.</exception>
    public static IObjectStore Open(string uri, ObjectStoreOptions? options = null) => Open(StoreUri.Parse(uri), options);

    /// <summary>Opens the store a parsed URI names.</summary>
    /// <param name="uri">The parsed store URI.</param>
    /// <param name="options">Options; <see langword="null"/> takes the defaults.</param>
    /// <returns>A store the caller owns and must dispose.</returns>
    public static IObjectStore Open(StoreUri uri, ObjectStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= new ObjectStoreOptions();
        if (uri.Kind == StoreKind.Local)
        {
            return new LocalObjectStore(uri.LocalPath!, options.Local);
        }

        var given = options.S3;
        var s3 = new S3ObjectStoreOptions
        {
            Endpoint = uri.Endpoint ?? given.Endpoint,
            Region = uri.Region ?? given.Region,
            ForcePathStyle = given.ForcePathStyle,
            Credentials = given.Credentials,
            ConditionalCreate = uri.ConditionalCreate ?? given.ConditionalCreate,
            SignPayloads = given.SignPayloads,
            ListPageSize = given.ListPageSize,
            Retry = given.Retry,
            Multipart = given.Multipart,
            Logger = given.Logger,
            HttpClientFactory = given.HttpClientFactory,
        };
        return new S3ObjectStore(uri.Bucket!, uri.Prefix, s3);
    }
}
