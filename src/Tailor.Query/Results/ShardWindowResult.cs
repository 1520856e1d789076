using Tailor.Storage;

namespace Tailor.Query.Results;

/// <summary>What one (shard, window) gave a query: its manifest generation (null when it has none), its series chunks in key order, and what could not be read.</summary>
internal sealed class ShardWindowResult(ShardName shard, string? generation, int parts, List<SeriesChunk> chunks, List<UnreadObject> unread)
{
    public ShardName Shard { get; } = shard;

    public string? Generation { get; } = generation;

    public bool IsAbsent => Generation is null;

    public int Parts { get; } = parts;

    public List<SeriesChunk> Chunks { get; } = chunks;

    public List<UnreadObject> Unread { get; } = unread;

    public long SizeInBytes => Chunks.Sum(c => c.SizeInBytes);
}
