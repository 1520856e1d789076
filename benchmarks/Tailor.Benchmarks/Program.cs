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
            // Optional: the injected latency in milliseconds (default 20).
            TimeSpan? latency = rest is [var ms, ..] ? TimeSpan.FromMilliseconds(double.Parse(ms, CultureInfo.InvariantCulture)) : null;
            var result = await MultipartUploadBenchmark.RunAgainstS3rverAsync(latency: latency);
            Console.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }

    case ["load", .. var loadArgs]:
        {
            // load [payloads/s] [seconds]
            var rate = loadArgs is [var r, ..] ? double.Parse(r, CultureInfo.InvariantCulture) : 4_000;
            var seconds = loadArgs is [_, var s, ..] ? double.Parse(s, CultureInfo.InvariantCulture) : 30;
            var result = await Tailor.Benchmarks.Load.LoadTest.RunAsync(
                new Tailor.Benchmarks.Load.LoadTestOptions { PayloadsPerSecond = rate, Duration = TimeSpan.FromSeconds(seconds) }, Console.Error);
            Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }

    default:
        BenchmarkSwitcher.FromAssembly(typeof(Tailor.Benchmarks.Codecs.CodecBenchmarkBase).Assembly).Run(args);
        return 0;
}
