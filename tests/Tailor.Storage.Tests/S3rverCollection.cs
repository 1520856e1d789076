using Tailor.Testing;

namespace Tailor.Storage.Tests;

/// <summary>One s3rver for every S3 test class of this assembly.</summary>
[CollectionDefinition(S3rverFixture.Collection)]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>;
