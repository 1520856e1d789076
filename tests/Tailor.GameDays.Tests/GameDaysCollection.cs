using Tailor.Testing;

namespace Tailor.GameDays.Tests;

/// <summary>
/// Every game day and crash trial runs in this collection: one s3rver for all of them (started once),
/// and, with parallelization off for the assembly, one scenario at a time.
/// </summary>
[CollectionDefinition(Name)]
public sealed class GameDaysCollection : ICollectionFixture<S3rverFixture>
{
    public const string Name = "GameDays";
}
