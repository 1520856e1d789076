using Tailor.Fuzz.Tests.Harness;
using Tailor.Fuzz.Tests.Targets;

namespace Tailor.Fuzz.Tests;

/// <summary>Every target by name: the regression folders and TAILOR_FUZZ_REPLAY use these names.</summary>
public static class FuzzTargets
{
    private static readonly Dictionary<string, Func<FuzzTarget>> Factories = new(StringComparer.Ordinal)
    {
        ["payload-frame"] = () => new PayloadFrameTarget(),
        ["payload-body"] = () => new PayloadBodyTarget(),
        ["segment"] = () => new SegmentTarget(),
        ["sfile"] = () => new SFileTarget(),
        ["codec"] = () => new CodecTarget(),
        ["shard-map"] = () => new ShardMapTarget(),
        ["store-uri"] = () => new StoreUriTarget(),
        ["compaction-window"] = () => new CompactionWindowTarget(),
        ["manifest"] = () => new ManifestTarget(),
    };

    public static IEnumerable<string> Names => Factories.Keys;

    public static FuzzTarget Create(string name) =>
        Factories.TryGetValue(name, out var factory) ? factory() : throw new ArgumentException($"No fuzz target is named '{name}' (known: {string.Join(", ", Names)}).", nameof(name));
}
