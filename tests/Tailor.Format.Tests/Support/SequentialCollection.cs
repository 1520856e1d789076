namespace Tailor.Format.Tests.Support;

/// <summary>
/// Tests that measure process-wide allocation run alone: no other test class runs beside them, so
/// GC.GetTotalAllocatedBytes counts only what the test does.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SequentialCollection
{
    public const string Name = "sequential";
}
