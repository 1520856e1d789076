using Tailor.Format.Series;
using Tailor.Storage;

namespace Tailor.Query;

/// <summary>Options of a <see cref="QueryEngine"/>; every default is stated on its property.</summary>
public sealed class QueryEngineOptions
{
    /// <summary>
    /// Routes orgs to shards. A query reads, in every window, the shard the map routes the org to, its shared
    /// shard <c>org-mod-K</c> and its dedicated shard <c>org-&lt;id&gt;</c>, so an org that moved between them is
    /// found on both sides of the move. Default <see cref="ShardMap.Default"/> (64 shared shards, no dedicated orgs).
    /// </summary>
    public ShardMap ShardMap { get; set; } = ShardMap.Default;

    /// <summary>
    /// Shard maps the store used before <see cref="ShardMap"/> (a change of the number of shared shards): a query
    /// also reads the org's shared shard under each of them, so windows written before the change are found.
    /// Default empty.
    /// </summary>
    public IReadOnlyList<ShardMap> FormerShardMaps { get; set; } = [];

    /// <summary>The compaction window length of the store (a whole number of minutes). Default 4 hours.</summary>
    public TimeSpan WindowLength { get; set; } = TimeSpan.FromHours(4);

    /// <summary>The cache's budget for manifests, S-file tails (footers) and decoded index pages, in bytes. Default 256 MiB; 0 turns the cache off.</summary>
    public long CacheBytes { get; set; } = 256L << 20;

    /// <summary>
    /// How long a manifest read from the store (or found missing) is trusted before it is read again, so a
    /// recompacted or newly compacted window is seen. Default 30 seconds. Parts are immutable per generation,
    /// so their tails and pages never expire (the budget evicts them).
    /// </summary>
    public TimeSpan ManifestTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many store reads one query runs at once, over all its windows. Default 32.</summary>
    public int MaxConcurrentReads { get; set; } = 32;

    /// <summary>How long a query may take before it fails with <see cref="QueryErrorKind.Timeout"/>. Default 60 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The most points (raw points, or bucket rows of a stepped query) one query may return. Default 50,000,000.</summary>
    public long MaxPoints { get; set; } = 50_000_000;

    /// <summary>
    /// The most bytes one query may hold at once: read buffers, decoded blocks and result columns. Default 1 GiB.
    /// Over it the query fails with <see cref="QueryErrorKind.MemoryLimit"/> before it allocates.
    /// </summary>
    public long MaxMemoryBytes { get; set; } = 1L << 30;

    /// <summary>How many bytes of an S-file's end the first read of a part takes: trailer, footer and, in small files, the index pages too. Default 64 KiB.</summary>
    public int TailReadBytes { get; set; } = SFileLayout.DefaultTailBytes;

    /// <summary>
    /// The largest gap of unwanted bytes one range read spans to join two wanted blocks of a part (blocks of
    /// one org and metric lie back to back, so only other contexts fall between them). Default 256 KiB.
    /// </summary>
    public int CoalesceGapBytes { get; set; } = 256 << 10;

    /// <summary>The largest coalesced range read; a run of blocks longer than this is read in several. Default 16 MiB.</summary>
    public int MaxReadBytes { get; set; } = 16 << 20;

    /// <summary>The largest manifest accepted, in bytes; a larger one is damage. Default 64 MiB.</summary>
    public int MaxManifestBytes { get; set; } = 64 << 20;

    /// <summary>Resolves the codecs of the parts. Default <see cref="Tailor.Format.Codecs.SeriesCodecRegistry.Shared"/>.</summary>
    public Tailor.Format.Codecs.SeriesCodecRegistry Codecs { get; set; } = Tailor.Format.Codecs.SeriesCodecRegistry.Shared;

    /// <summary>The clock of manifest expiry and timeouts. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(ShardMap, nameof(ShardMap));
        ArgumentNullException.ThrowIfNull(FormerShardMaps, nameof(FormerShardMaps));
        ArgumentNullException.ThrowIfNull(Codecs, nameof(Codecs));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        if (WindowLength <= TimeSpan.Zero || WindowLength.Ticks % TimeSpan.TicksPerMinute != 0 || WindowLength > TimeSpan.FromDays(366))
        {
            throw new ArgumentException($"WindowLength must be a whole number of minutes up to a year (was {WindowLength}).", nameof(WindowLength));
        }

        Check(CacheBytes >= 0, nameof(CacheBytes), "0 or more");
        Check(ManifestTtl >= TimeSpan.Zero, nameof(ManifestTtl), "zero or more");
        Check(MaxConcurrentReads >= 1, nameof(MaxConcurrentReads), "at least 1");
        Check(Timeout > TimeSpan.Zero, nameof(Timeout), "positive");
        Check(MaxPoints >= 1, nameof(MaxPoints), "at least 1");
        Check(MaxMemoryBytes >= 1 << 20, nameof(MaxMemoryBytes), "at least 1 MiB");
        Check(TailReadBytes >= SFileFormat.TrailerLength, nameof(TailReadBytes), $"at least {SFileFormat.TrailerLength}");
        Check(CoalesceGapBytes >= 0, nameof(CoalesceGapBytes), "0 or more");
        Check(MaxReadBytes >= 4096, nameof(MaxReadBytes), "at least 4096");
        Check(MaxManifestBytes >= 1024, nameof(MaxManifestBytes), "at least 1024");
    }

    private static void Check(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"{name} must be {rule}.", name);
        }
    }
}
