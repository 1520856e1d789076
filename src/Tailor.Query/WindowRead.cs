using Tailor.Storage;

namespace Tailor.Query;

/// <summary>One (shard, window) a query read: the manifest generation it read, wholly, and how many of its parts it needed.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="Window">The window.</param>
/// <param name="Generation">The generation of the manifest every part of this window was read from (8 hex digits).</param>
/// <param name="Parts">The parts of the generation whose key range the query needed.</param>
public sealed record WindowRead(ShardName Shard, QueryWindow Window, string Generation, int Parts);
