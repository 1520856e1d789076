using Tailor.Fuzz.Tests.Harness;
using Tailor.Fuzz.Tests.Targets;
using Xunit.Abstractions;

namespace Tailor.Fuzz.Tests;

public sealed class SegmentFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Segment_files_keep_every_reader_contract() => FuzzTest.Run(new SegmentTarget(), output);
}
