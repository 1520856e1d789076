using System.Text.Json;
using System.Text.Json.Serialization;
using Tailor.Compaction.Writing;

namespace Tailor.Compaction;

/// <summary>
/// The manifest of one (shard, window): written last, it is the commit point of a compaction. It names
/// every input segment (key, size, ETag) and every S-file part, so readers follow it to the files and a
/// changed input set is detected and recompacted.
/// </summary>
public sealed record CompactionManifest
{
    /// <summary>The manifest format version.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Always "tailor-manifest".</summary>
    [JsonPropertyName("format")] public string Format { get; init; } = "tailor-manifest";

    /// <summary>The manifest format version.</summary>
    [JsonPropertyName("version")] public int Version { get; init; } = CurrentVersion;

    /// <summary>The shard.</summary>
    [JsonPropertyName("shard")] public required string Shard { get; init; }

    /// <summary>The window, e.g. <c>2026-11-26T00:00Z/4h</c>.</summary>
    [JsonPropertyName("window")] public required string Window { get; init; }

    /// <summary>The input set's generation (8 hex digits); S-file keys carry it.</summary>
    [JsonPropertyName("generation")] public required string Generation { get; init; }

    /// <summary>The series codec of the parts.</summary>
    [JsonPropertyName("codec")] public required string Codec { get; init; }

    /// <summary>The input segments, sorted by key.</summary>
    [JsonPropertyName("inputs")] public required IReadOnlyList<SegmentInput> Inputs { get; init; }

    /// <summary>The S-file parts, in key order.</summary>
    [JsonPropertyName("outputs")] public required IReadOnlyList<PartInfo> Outputs { get; init; }

    /// <summary>The run's counts (points in and out, duplicates, damage, bytes).</summary>
    [JsonPropertyName("stats")] public required ManifestStats Stats { get; init; }

    /// <summary>
    /// Inputs the previous manifest listed that were gone from the store when this generation was written
    /// without them (only with <see cref="CompactionOptions.AllowDroppedInputs"/>); absent otherwise.
    /// </summary>
    [JsonPropertyName("dropped_inputs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? DroppedInputs { get; init; }

    /// <summary>When the manifest was written.</summary>
    [JsonPropertyName("created_at")] public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>JSON options of manifests: snake_case, indented.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    /// <summary>The manifest as UTF-8 JSON.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions);

    /// <summary>Parses a manifest.</summary>
    /// <exception cref="FormatException">The bytes are not a Tailor manifest.</exception>
    public static CompactionManifest Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<CompactionManifest>(json, JsonOptions);
            if (manifest is null || manifest.Format != "tailor-manifest" || manifest.Version != CurrentVersion)
            {
                throw new FormatException("Not a version 1 Tailor manifest.");
            }

            // The serializer lets JSON null (or a record's missing member) through where the type says never null.
            if (manifest.Shard is null || manifest.Window is null || manifest.Generation is null || manifest.Codec is null || manifest.Stats is null
                || manifest.Inputs is null || manifest.Outputs is null || manifest.Inputs.Any(i => i?.Key is null)
                || manifest.Outputs.Any(o => o?.Key is null || o.FirstSeries is null || o.LastSeries is null || o.Sha256 is null))
            {
                throw new FormatException("The manifest lacks a member or holds null where a value is required.");
            }

            return manifest;
        }
        catch (JsonException e)
        {
            throw new FormatException($"The manifest is not valid JSON: {e.Message}", e);
        }
    }
}

/// <summary>The counts a manifest keeps of the run that wrote it.</summary>
public sealed record ManifestStats
{
    /// <summary>Points decoded from the inputs (in and out of the window).</summary>
    [JsonPropertyName("points_in")] public long PointsIn { get; init; }

    /// <summary>Points written to the S-files.</summary>
    [JsonPropertyName("points_out")] public long PointsOut { get; init; }

    /// <summary>Points dropped by the duplicate rule.</summary>
    [JsonPropertyName("duplicates")] public long Duplicates { get; init; }

    /// <summary>Points of other windows, skipped.</summary>
    [JsonPropertyName("out_of_window")] public long OutOfWindow { get; init; }

    /// <summary>Records lost to damage plus payloads that could not be decoded.</summary>
    [JsonPropertyName("damaged_records")] public long DamagedRecords { get; init; }

    /// <summary>Series written.</summary>
    [JsonPropertyName("series")] public long Series { get; init; }

    /// <summary>Input bytes.</summary>
    [JsonPropertyName("bytes_in")] public long BytesIn { get; init; }

    /// <summary>Output bytes.</summary>
    [JsonPropertyName("bytes_out")] public long BytesOut { get; init; }

    /// <summary>Input segments without an intact trailer (0 when the manifest predates the count).</summary>
    [JsonPropertyName("incomplete_segments")] public int IncompleteSegments { get; init; }

    /// <summary>Input segments under another <c>&lt;p&gt;</c> folder than the sink's rule gives (0 when the manifest predates the count).</summary>
    [JsonPropertyName("misplaced_segments")] public int MisplacedSegments { get; init; }

    /// <summary>Payloads whose org routes to another shard (0 when the manifest predates the count).</summary>
    [JsonPropertyName("misrouted_payloads")] public long MisroutedPayloads { get; init; }

    /// <summary>Points of the window in misrouted payloads (0 when the manifest predates the count).</summary>
    [JsonPropertyName("misrouted_points")] public long MisroutedPoints { get; init; }
}
