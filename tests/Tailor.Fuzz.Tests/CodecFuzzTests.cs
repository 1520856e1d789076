using Tailor.Fuzz.Tests.Harness;
using Tailor.Fuzz.Tests.Targets;
using Xunit.Abstractions;

namespace Tailor.Fuzz.Tests;

public sealed class CodecFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Series_blocks_keep_the_codec_contract() => FuzzTest.Run(new CodecTarget(), output);
}
