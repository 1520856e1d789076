using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tailor.Storage;

namespace Tailor.Compaction;

/// <summary>
/// The Kafka message of one compaction job on the jobs topic: key <c>shard|window</c> (so every job of
/// one window lands in one partition and runs in the order it was planned), value the job as UTF-8 JSON
/// with its planned inputs, so every worker that receives it runs exactly the same job:
/// <code>
/// {
///   "format": "tailor-compaction-job", "version": 1,
///   "shard": "org-mod-3", "window": "2026-11-26T00:00Z/4h", "generation": "5f0c2a91",
///   "inputs": [ { "key": "segments/org-mod-3/2026-11-26T00/a7/…-0000000001.tseg", "size": 1048576, "e_tag": "…" } ],
///   "input_bytes": 1048576, "planned_at": "2026-11-26T04:10:00+00:00"
/// }
/// </code>
/// </summary>
/// <remarks>
/// <c>generation</c> is redundant (it is computed from the inputs) and checked on parse, so a message
/// whose input list was altered or truncated is refused instead of compacting a different input set.
/// Unknown properties are ignored, so later versions may add fields without breaking older workers.
/// </remarks>
public static class CompactionJobMessage
{
    /// <summary>The value of the <c>format</c> property.</summary>
    public const string Format = "tailor-compaction-job";

    /// <summary>The message version this code writes and reads.</summary>
    public const int CurrentVersion = 1;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The message key of a job: <c>shard|window</c>, e.g. <c>org-mod-3|2026-11-26T00:00Z/4h</c>.</summary>
    /// <param name="job">The job.</param>
    /// <returns>The key.</returns>
    public static string KeyOf(CompactionJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return $"{job.Shard.Value}|{job.Window}";
    }

    /// <summary>The message value of a job: UTF-8 JSON in the shape above.</summary>
    /// <param name="job">The job.</param>
    /// <param name="plannedAt">When the job was planned; recorded for people, not used by workers. Default: now.</param>
    /// <returns>The JSON bytes.</returns>
    public static byte[] Serialize(CompactionJob job, DateTimeOffset? plannedAt = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        var body = new Body
        {
            Format = Format,
            Version = CurrentVersion,
            Shard = job.Shard.Value,
            Window = job.Window.ToString(),
            Generation = job.Generation,
            Inputs = job.Inputs,
            InputBytes = job.InputBytes,
            PlannedAt = (plannedAt ?? DateTimeOffset.UtcNow).ToUniversalTime(),
        };
        return JsonSerializer.SerializeToUtf8Bytes(body, JsonOptions);
    }

    /// <summary>Reads a job from a message value.</summary>
    /// <param name="json">The message value.</param>
    /// <returns>The job, with the inputs the message names.</returns>
    /// <exception cref="FormatException">The value is not a version 1 job message, names a bad shard or window, or its
    /// generation does not match its inputs. The message says which.</exception>
    public static CompactionJob Parse(ReadOnlySpan<byte> json)
    {
        Body? body;
        try
        {
            body = JsonSerializer.Deserialize<Body>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new FormatException($"The job message is not valid JSON: {e.Message}", e);
        }

        if (body is null || body.Format != Format)
        {
            throw new FormatException($"The message is not a compaction job (its \"format\" is not \"{Format}\").");
        }

        if (body.Version != CurrentVersion)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"The job message has version {body.Version}; this worker reads version {CurrentVersion}."));
        }

        if (!ShardName.TryParse(body.Shard, out var shard))
        {
            throw new FormatException($"The job message names no valid shard ('{body.Shard}').");
        }

        if (!CompactionWindow.TryParse(body.Window, out var window, out var problem))
        {
            throw new FormatException($"The job message's window is not valid: {problem}");
        }

        if (body.Inputs is null || body.Inputs.Any(i => i is null || string.IsNullOrEmpty(i.Key) || i.Size < 0))
        {
            throw new FormatException("The job message's inputs are missing or name a segment without key or size.");
        }

        var job = new CompactionJob(shard, window, body.Inputs);
        if (!string.Equals(job.Generation, body.Generation, StringComparison.Ordinal))
        {
            throw new FormatException($"The job message's generation {body.Generation} does not match its {job.Inputs.Count} inputs (they give {job.Generation}): the message was altered.");
        }

        return job;
    }

    private sealed class Body
    {
        public string? Format { get; set; }

        public int Version { get; set; }

        public string? Shard { get; set; }

        public string? Window { get; set; }

        public string? Generation { get; set; }

        public IReadOnlyList<SegmentInput>? Inputs { get; set; }

        public long InputBytes { get; set; }

        public DateTimeOffset? PlannedAt { get; set; }
    }
}
