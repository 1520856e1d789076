using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Running;
using Tailor.Benchmarks.Storage;

// Side-by-side runners by name; anything else goes to BenchmarkDotNet.
switch (args)
{
    case ["codecs", .. var codecArgs]:
        return Tailor.Benchmarks.Codecs.CodecComparisonCommand.Run(codecArgs);
    case ["storage-multipart", .. var rest]:
        {
            // Optional: the injected latency in milliseconds (default 20), then the rounds (default 3).
            TimeSpan? latency = rest is [var ms, ..] ? TimeSpan.FromMilliseconds(double.Parse(ms, CultureInfo.InvariantCulture)) : null;
            var rounds = rest is [_, var r, ..] ? int.Parse(r, CultureInfo.InvariantCulture) : 3;
            var result = await MultipartUploadBenchmark.RunAgainstS3rverAsync(latency: latency, rounds: rounds);
            Console.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }

    default:
        BenchmarkSwitcher.FromAssembly(typeof(Tailor.Benchmarks.Codecs.CodecBenchmarkBase).Assembly).Run(args);
        return 0;
}
