using System.Globalization;
using System.Text.Json;
using Tailor.Benchmarks.Storage;

// Until `tailor bench` integrates these, one benchmark can be run by name.
if (args is ["storage-multipart", .. var rest])
{
    // Optional: the injected latency in milliseconds (default 20).
    TimeSpan? latency = rest is [var ms, ..] ? TimeSpan.FromMilliseconds(double.Parse(ms, CultureInfo.InvariantCulture)) : null;
    var result = await MultipartUploadBenchmark.RunAgainstS3rverAsync(latency: latency);
    Console.WriteLine(JsonSerializer.Serialize(result));
}

return 0;
