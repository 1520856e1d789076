using System.Text.Json;
using Tailor.Format.Series;
using Tailor.Storage;

namespace Tailor.Query.Reading;

/// <summary>One S-file part a manifest names: its key, size and the first and last series it holds.</summary>
internal sealed record ManifestPart(string Key, long Size, SeriesKey FirstSeries, SeriesKey LastSeries);

/// <summary>
/// The fields of a window's <c>_manifest.json</c> the read side needs (format, version, generation and
/// the parts), read tolerantly: members it does not know are ignored, so manifests that grow new fields
/// stay readable. <see cref="Absent"/> stands for a window with no manifest.
/// </summary>
internal sealed class ManifestDocument
{
    private ManifestDocument(string generation, ManifestPart[] parts, long size)
    {
        Generation = generation;
        Parts = parts;
        SizeInBytes = size;
    }

    /// <summary>A window without a manifest.</summary>
    public static ManifestDocument Absent { get; } = new(string.Empty, [], 64);

    public bool IsAbsent => ReferenceEquals(this, Absent);

    public string Generation { get; }

    /// <summary>The parts, in key order.</summary>
    public ManifestPart[] Parts { get; }

    /// <summary>What the cache charges for it.</summary>
    public long SizeInBytes { get; }

    /// <summary>Parses a manifest found at <paramref name="shard"/>/<paramref name="windowStart"/>; every part key must lie in that window's folder.</summary>
    /// <exception cref="FormatException">The bytes are not a version 1 Tailor manifest of this window; the message says what is wrong.</exception>
    public static ManifestDocument Parse(ReadOnlySpan<byte> json, ShardName shard, DateTimeOffset windowStart)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 });
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("the manifest is not a JSON object");
            }

            if (!root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String || format.GetString() != "tailor-manifest")
            {
                throw new FormatException("\"format\" is not \"tailor-manifest\"");
            }

            if (!root.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v) || v != 1)
            {
                throw new FormatException("\"version\" is not 1");
            }

            if (!root.TryGetProperty("generation", out var gen) || gen.ValueKind != JsonValueKind.String || gen.GetString() is not { Length: > 0 } generation)
            {
                throw new FormatException("\"generation\" is missing");
            }

            if (!root.TryGetProperty("outputs", out var outputs) || outputs.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("\"outputs\" is not an array");
            }

            var parts = new ManifestPart[outputs.GetArrayLength()];
            var i = 0;
            long size = json.Length + 256;
            foreach (var output in outputs.EnumerateArray())
            {
                var key = String(output, "key", i);
                if (!ObjectKeys.TryParseSeriesFile(key, out var file) || file.Shard != shard || file.WindowStart != windowStart)
                {
                    throw new FormatException($"output {i} names '{key}', which is not an S-file of {shard} {ObjectKeys.FormatWindowStart(windowStart)}");
                }

                if (!output.TryGetProperty("size", out var sizeElement) || sizeElement.ValueKind != JsonValueKind.Number || !sizeElement.TryGetInt64(out var partSize) || partSize < SFileFormat.TrailerLength)
                {
                    throw new FormatException($"output {i} has no valid \"size\"");
                }

                var first = Key(output, "first_series", i);
                var last = Key(output, "last_series", i);
                if (first > last || (i > 0 && first <= parts[i - 1].LastSeries))
                {
                    throw new FormatException($"output {i}'s series range {first} … {last} is empty or overlaps the previous part's");
                }

                parts[i++] = new ManifestPart(key, partSize, first, last);
                size += key.Length * 2 + 96;
            }

            return new ManifestDocument(generation, parts, size);
        }
        catch (JsonException e)
        {
            throw new FormatException($"the manifest is not valid JSON: {e.Message}", e);
        }
    }

    private static string String(JsonElement output, string name, int index) =>
        output.ValueKind == JsonValueKind.Object && output.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { } text
            ? text
            : throw new FormatException($"output {index} has no \"{name}\"");

    private static SeriesKey Key(JsonElement output, string name, int index)
    {
        var text = String(output, name, index);
        return SeriesKey.TryParse(text, out var key) ? key : throw new FormatException($"output {index}'s \"{name}\" '{text}' is not a series key");
    }
}
