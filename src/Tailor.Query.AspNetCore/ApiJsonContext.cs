using System.Text.Json.Serialization;

namespace Tailor.Query.AspNetCore;

/// <summary>An RFC 9457 problem body, with the parameter and rule (or limit) it is about.</summary>
internal sealed record Problem(string Type, string Title, int Status, string Detail, string? Parameter = null, string? Rule = null, string? Limit = null);

/// <summary>The body of <c>/api/v1/contexts</c>.</summary>
internal sealed record ContextsResponse(string Org, string Metric, long From, long To, IReadOnlyList<ContextItem> Contexts, IReadOnlyList<RangeItem> AbsentWindows, int WindowsRead, double ElapsedMs);

/// <summary>One context that has points in the range.</summary>
internal sealed record ContextItem(string Context, long Points, long MinTimestamp, long MaxTimestamp, string? Metadata);

/// <summary>A time range in Unix seconds, half open.</summary>
internal sealed record RangeItem(long Start, long End);

/// <summary>The body of <c>/api/v1/windows</c>.</summary>
internal sealed record WindowsResponse(long From, long To, string? Shard, IReadOnlyList<WindowItem> Windows, IReadOnlyList<RangeItem> AbsentWindows);

/// <summary>One compacted window of one shard.</summary>
internal sealed record WindowItem(string Shard, long Start, long End, string Generation, int Parts, long Points, long Series, long Bytes);

/// <summary>System.Text.Json source generation for every body the endpoints write.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Problem))]
[JsonSerializable(typeof(ContextsResponse))]
[JsonSerializable(typeof(WindowsResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
