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
            // Optional: the injected latency in milliseconds (default 20), the rounds (default 3), and the
            // parts in flight to compare with one at a time (default: MultipartOptions' default).
            TimeSpan? latency = rest is [var ms, ..] ? TimeSpan.FromMilliseconds(double.Parse(ms, CultureInfo.InvariantCulture)) : null;
            var rounds = rest is [_, var r, ..] ? int.Parse(r, CultureInfo.InvariantCulture) : 3;
            int? parallelism = rest is [_, _, var p, ..] ? int.Parse(p, CultureInfo.InvariantCulture) : null;
            var result = await MultipartUploadBenchmark.RunAgainstS3rverAsync(latency: latency, rounds: rounds, parallelism: parallelism);
            Console.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }

    default:
        BenchmarkSwitcher.FromAssembly(typeof(Tailor.Benchmarks.Codecs.CodecBenchmarkBase).Assembly).Run(args);
        return 0;
}
