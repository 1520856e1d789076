using Tailor.Storage;

namespace Tailor.Query;

/// <summary>An object a partial query could not read (see <see cref="QueryRequest.AllowPartial"/>): its points are missing from the result.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="Window">The window.</param>
/// <param name="Key">The object's key: a part, or the window's manifest.</param>
/// <param name="Kind">Why: <see cref="QueryErrorKind.MissingObject"/>, <see cref="QueryErrorKind.DamagedPart"/>, <see cref="QueryErrorKind.DamagedManifest"/> or <see cref="QueryErrorKind.Store"/>.</param>
/// <param name="Reason">What went wrong, as the error would have said it.</param>
public sealed record UnreadObject(ShardName Shard, QueryWindow Window, string Key, QueryErrorKind Kind, string Reason);
