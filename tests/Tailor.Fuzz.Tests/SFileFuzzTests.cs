using Tailor.Fuzz.Tests.Harness;
using Tailor.Fuzz.Tests.Targets;
using Xunit.Abstractions;

namespace Tailor.Fuzz.Tests;

public sealed class SFileFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void S_files_keep_the_strict_reader_contract() => FuzzTest.Run(new SFileTarget(), output);
}
