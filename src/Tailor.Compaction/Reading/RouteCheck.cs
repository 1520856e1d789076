using Tailor.Storage;

namespace Tailor.Compaction.Reading;

/// <summary>
/// Whether an org belongs under the shard a segment lies under: a dedicated shard <c>org-&lt;id&gt;</c>
/// holds that org only; a shared shard <c>org-mod-K</c> holds orgs with org mod N = K when the number of
/// shared shards N is known, and at least no org below K when it is not (an org below K is its own
/// remainder for every N above K). An org the shard map dedicates a shard to belongs under that shard
/// only. The default value checks nothing.
/// </summary>
internal readonly struct RouteCheck(ShardName shard, int? sharedShards, IReadOnlySet<uint>? dedicatedOrgs = null)
{
    public bool IsMisrouted(uint org)
    {
        if (shard.IsEmpty)
        {
            return false;
        }

        if (dedicatedOrgs is { Count: > 0 } && dedicatedOrgs.Contains(org))
        {
            return !shard.IsDedicated || org != shard.Number;
        }

        if (shard.IsDedicated)
        {
            return org != shard.Number;
        }

        return sharedShards is { } n ? org % (uint)n != shard.Number : org < shard.Number;
    }
}
