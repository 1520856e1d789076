using Tailor.Fuzz.Tests.Harness;
using Tailor.Fuzz.Tests.Targets;
using Xunit.Abstractions;

namespace Tailor.Fuzz.Tests;

public sealed class PayloadFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Payload_frames_keep_the_decoder_contract() => FuzzTest.Run(new PayloadFrameTarget(), output);

    [Fact]
    public void Payload_bodies_keep_the_reader_contract() => FuzzTest.Run(new PayloadBodyTarget(), output);
}
