using System.Security.Cryptography;
using System.Text;
using Tailor.Storage;

namespace Tailor.Compaction;

/// <summary>One input segment of a job, as listed in the store.</summary>
/// <param name="Key">The segment's key.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="ETag">Its ETag or checksum, as the store reports it.</param>
public sealed record SegmentInput(string Key, long Size, string? ETag);

/// <summary>
/// One compaction job: a shard, a window and the exact segments to read. A job is a pure function
/// of its inputs: running it again over the same inputs writes identical S-files.
/// </summary>
public sealed record CompactionJob
{
    /// <summary>Creates a job; inputs are kept sorted by key.</summary>
    public CompactionJob(ShardName shard, CompactionWindow window, IEnumerable<SegmentInput> inputs)
    {
        Shard = shard;
        Window = window;
        Inputs = [.. inputs.OrderBy(i => i.Key, StringComparer.Ordinal)];
        Generation = ComputeGeneration(Inputs);
    }

    /// <summary>The shard.</summary>
    public ShardName Shard { get; }

    /// <summary>The window.</summary>
    public CompactionWindow Window { get; }

    /// <summary>The input segments, sorted by key.</summary>
    public IReadOnlyList<SegmentInput> Inputs { get; }

    /// <summary>8 hex digits naming this input set; S-file keys carry it so other input sets never overwrite them.</summary>
    public string Generation { get; }

    /// <summary>
    /// Inputs whose key is not one the sink writes (most often a <c>&lt;p&gt;</c> folder other than the one
    /// their writer id and sequence give, after a copy by another tool): read like the others, and reported.
    /// </summary>
    public IReadOnlyList<string> MisplacedInputs => [.. Inputs.Where(i => !ObjectKeys.TryParseSegment(i.Key, out _)).Select(i => i.Key)];

    /// <summary>The total input size.</summary>
    public long InputBytes => Inputs.Sum(i => i.Size);

    /// <summary>The job as <c>shard window</c>.</summary>
    public override string ToString() => $"{Shard.Value} {Window}";

    private static string ComputeGeneration(IReadOnlyList<SegmentInput> inputs)
    {
        var text = new StringBuilder();
        foreach (var input in inputs)
        {
            text.Append(input.Key).Append('|').Append(input.Size).Append('|').Append(input.ETag).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..8];
    }
}
