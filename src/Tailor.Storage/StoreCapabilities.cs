namespace Tailor.Storage;

/// <summary>Guarantees a store gives beyond the <see cref="IObjectStore"/> contract every store keeps.</summary>
[Flags]
public enum StoreCapabilities
{
    /// <summary>Nothing beyond the common contract.</summary>
    None = 0,

    /// <summary>
    /// <see cref="IObjectStore.TryCreateAsync"/> is atomic: of any number of concurrent creators of one
    /// key, exactly one gets <see langword="true"/> and no object is ever replaced. Without this flag,
    /// an object that existed before the call is still never replaced, but two creators racing on a
    /// missing key may both succeed and the last write wins.
    /// </summary>
    ConditionalCreate = 1,
}
