using Tailor.Fuzz.Tests.Harness;
using Tailor.Fuzz.Tests.Targets;
using Xunit.Abstractions;

namespace Tailor.Fuzz.Tests;

public sealed class ParserFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Shard_maps_parse_or_throw_FormatException() => FuzzTest.Run(new ShardMapTarget(), output);

    [Fact]
    public void Store_uris_parse_or_fail_cleanly_and_round_trip() => FuzzTest.Run(new StoreUriTarget(), output);

    [Fact]
    public void Compaction_windows_parse_or_fail_cleanly_and_round_trip() => FuzzTest.Run(new CompactionWindowTarget(), output);

    [Fact]
    public void Manifests_parse_or_throw_FormatException() => FuzzTest.Run(new ManifestTarget(), output);
}
