namespace Tailor.Format.Tests.Series;

/// <summary>
/// The S-file tests allocate tens of megabytes (corpora, a 2.25 GiB file written through 64 MiB blocks), so
/// they run on their own, after the parallel tests: tests elsewhere that bound process-wide allocation
/// (GC.GetTotalAllocatedBytes) must not see these bytes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SFileTestCollection
{
    public const string Name = "S-files";
}
