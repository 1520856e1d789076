using Tailor.Testing;

namespace Tailor.Storage.Tests;

public sealed class StoreUriTests
{
    [Fact]
    public void File_URIs_name_absolute_folders()
    {
        var uri = StoreUri.Parse("file:///var/lib/tailor/data/");
        Assert.Equal(StoreKind.Local, uri.Kind);
        Assert.Equal("/var/lib/tailor/data", uri.LocalPath);
        Assert.Equal("file:///var/lib/tailor/data", uri.ToString());
        Assert.Equal("/tmp/x y", StoreUri.Parse("file:///tmp/x%20y").LocalPath);
        Assert.Equal("/srv", StoreUri.Parse("file://localhost/srv").LocalPath);
    }

    [Fact]
    public void S3_URIs_carry_bucket_prefix_and_parameters()
    {
        var uri = StoreUri.Parse("s3://metrics-prod/tailor/v1/?endpoint=http://127.0.0.1:9000&region=eu-west-1&conditional-create=false");
        Assert.Equal(StoreKind.S3, uri.Kind);
        Assert.Equal("metrics-prod", uri.Bucket);
        Assert.Equal("tailor/v1", uri.Prefix);
        Assert.Equal(new Uri("http://127.0.0.1:9000"), uri.Endpoint);
        Assert.Equal("eu-west-1", uri.Region);
        Assert.False(uri.ConditionalCreate);
        Assert.Equal("s3://metrics-prod/tailor/v1?endpoint=http://127.0.0.1:9000&region=eu-west-1&conditional-create=false", uri.ToString());

        var bare = StoreUri.Parse("s3://bucket");
        Assert.Equal(string.Empty, bare.Prefix);
        Assert.Null(bare.Endpoint);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("/var/data", "no scheme")]
    [InlineData("ftp://host/x", "unknown scheme 'ftp'")]
    [InlineData("gs://bucket", "unknown scheme 'gs'")]
    [InlineData("file://server/share", "host 'server'")]
    [InlineData("file:///data?x=1", "no parameters")]
    [InlineData("s3://Bucket/x", "not a valid bucket name")]
    [InlineData("s3://ab", "not a valid bucket name")]
    [InlineData("s3://bucket/a/../b", "'..'")]
    [InlineData("s3://bucket?endpoint=127.0.0.1:9000", "absolute http or https")]
    [InlineData("s3://bucket?region=EU WEST", "region")]
    [InlineData("s3://bucket?conditional-create=maybe", "true or false")]
    [InlineData("s3://bucket?colour=blue", "unknown parameter 'colour'")]
    public void Bad_URIs_say_what_is_wrong(string uri, string expected)
    {
        var error = Assert.Throws<FormatException>(() => StoreUri.Parse(uri));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(StoreUri.TryParse(uri, out _, out var message));
        Assert.Equal(error.Message, message);
    }

    [Theory]
    [InlineData("s3://AKIAEXAMPLE:SuperSecret1@bucket/x")]
    [InlineData("s3://bucket/x?endpoint=http://user:SuperSecret1@127.0.0.1:9000")]
    [InlineData("s3://bucket/x?secret_key=SuperSecret1")]
    public void Errors_never_repeat_credentials(string uri)
    {
        var error = Assert.Throws<FormatException>(() => StoreUri.Parse(uri));
        Assert.DoesNotContain("SuperSecret1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_factory_opens_a_local_store_from_its_URI()
    {
        using var folder = new TempFolder("factory");
        await using var store = ObjectStoreFactory.Open(folder.Uri);
        var local = Assert.IsType<LocalObjectStore>(store);
        Assert.Equal(folder.Path, local.RootPath);
        Assert.Equal(folder.Uri, store.Name);
        await store.PutAsync("k", new byte[] { 1 });
        Assert.True(File.Exists(Path.Combine(folder.Path, "k")));
    }

    [Fact]
    public void The_factory_applies_URI_parameters_over_options_without_changing_them()
    {
        var options = new ObjectStoreOptions { S3 = { Region = "us-west-2", ListPageSize = 10 } };
        var store = (S3ObjectStore)ObjectStoreFactory.Open("s3://bucket/p?endpoint=http://127.0.0.1:1&conditional-create=true", options);
        Assert.Equal(StoreCapabilities.ConditionalCreate, store.Capabilities);
        Assert.Equal("s3://bucket/p?endpoint=http://127.0.0.1:1", store.Name);
        Assert.Null(options.S3.Endpoint);
        Assert.Equal("us-west-2", options.S3.Region);
    }
}
