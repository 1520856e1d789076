using Tailor.Testing;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>How worker processes reach an s3rver bucket: the store URI and the credentials in their environment.</summary>
internal static class S3Store
{
    /// <summary>s3rver's fixed credentials, through the AWS standard chain (environment variables), as a deployment would pass them.</summary>
    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>
    {
        ["AWS_ACCESS_KEY_ID"] = S3rverFixture.AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = S3rverFixture.SecretKey,
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    };

    /// <summary>The store URI of a bucket at an endpoint (s3rver itself or a proxy in front of it).</summary>
    public static string Uri(string bucket, Uri endpoint) => $"s3://{bucket}?endpoint={endpoint.GetLeftPart(UriPartial.Authority)}";
}
