using System.Collections.Frozen;
using System.Text.Json;

namespace Tailor.Storage;

/// <summary>
/// Sends every org to a shard: its own shard <c>org-&lt;id&gt;</c> when it is listed as dedicated,
/// else <c>org-mod-K</c> with K = org id mod <see cref="SharedShards"/>.
/// </summary>
/// <remarks>
/// Immutable and thread-safe; <see cref="Route"/> allocates nothing. The JSON form is
/// <c>{"sharedShards": 64, "dedicated": [1234, 5678]}</c> (both properties optional).
/// </remarks>
public sealed class ShardMap
{
    /// <summary>The default number of shared shards: 64.</summary>
    public const int DefaultSharedShards = 64;

    /// <summary>The largest number of shared shards accepted: 1,048,576.</summary>
    public const int MaxSharedShards = 1 << 20;

    private readonly ShardName[] _shared;
    private readonly FrozenDictionary<uint, ShardName> _dedicated;

    /// <summary>Creates a map.</summary>
    /// <param name="sharedShards">The number of shared shards, 1 … 1,048,576. Default 64.</param>
    /// <param name="dedicatedOrgs">Orgs that get a shard of their own.</param>
    public ShardMap(int sharedShards = DefaultSharedShards, IEnumerable<uint>? dedicatedOrgs = null)
    {
        if (sharedShards is < 1 or > MaxSharedShards)
        {
            throw new ArgumentOutOfRangeException(nameof(sharedShards), sharedShards, $"The number of shared shards must be 1 … {MaxSharedShards}.");
        }

        SharedShards = sharedShards;
        _shared = new ShardName[sharedShards];
        for (var i = 0; i < sharedShards; i++)
        {
            _shared[i] = ShardName.Shared((uint)i);
        }

        _dedicated = (dedicatedOrgs ?? []).Distinct().ToFrozenDictionary(org => org, ShardName.Dedicated);
    }

    /// <summary>The default map: 64 shared shards, no dedicated orgs.</summary>
    public static ShardMap Default { get; } = new();

    /// <summary>The number of shared shards.</summary>
    public int SharedShards { get; }

    /// <summary>The orgs with a shard of their own, ascending.</summary>
    public IReadOnlyList<uint> DedicatedOrgs => [.. _dedicated.Keys.Order()];

    /// <summary>The shard of an org.</summary>
    public ShardName Route(uint orgId) =>
        _dedicated.TryGetValue(orgId, out var shard) ? shard : _shared[orgId % (uint)_shared.Length];

    /// <summary>Every shard this map can route to.</summary>
    public IEnumerable<ShardName> AllShards => _shared.Concat(_dedicated.Values.OrderBy(s => s.Number));

    /// <summary>Parses the JSON form.</summary>
    /// <exception cref="FormatException">The JSON is malformed or holds values out of range; the message says which.</exception>
    public static ShardMap Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 8 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("A shard map is a JSON object such as {\"sharedShards\": 64, \"dedicated\": [1234]}.");
            }

            var shared = DefaultSharedShards;
            var dedicated = new List<uint>();
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "sharedShards":
                        if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out shared) || shared is < 1 or > MaxSharedShards)
                        {
                            throw new FormatException($"\"sharedShards\" must be a whole number from 1 to {MaxSharedShards}.");
                        }

                        break;
                    case "dedicated":
                        if (property.Value.ValueKind != JsonValueKind.Array)
                        {
                            throw new FormatException("\"dedicated\" must be an array of org ids.");
                        }

                        foreach (var item in property.Value.EnumerateArray())
                        {
                            if (item.ValueKind != JsonValueKind.Number || !item.TryGetUInt32(out var org))
                            {
                                throw new FormatException($"\"dedicated\" holds {item.GetRawText()}, which is not an org id (0 … {uint.MaxValue}).");
                            }

                            dedicated.Add(org);
                        }

                        break;
                    default:
                        throw new FormatException($"Unknown shard map property \"{property.Name}\" (expected \"sharedShards\" and \"dedicated\").");
                }
            }

            return new ShardMap(shared, dedicated);
        }
        catch (JsonException e)
        {
            throw new FormatException($"The shard map is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>The JSON form of this map.</summary>
    public string ToJson() => JsonSerializer.Serialize(new { sharedShards = SharedShards, dedicated = DedicatedOrgs });
}
