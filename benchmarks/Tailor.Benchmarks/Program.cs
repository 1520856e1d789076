using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "codecs")
{
    return Tailor.Benchmarks.Codecs.CodecComparisonCommand.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Tailor.Benchmarks.Codecs.CodecBenchmarkBase).Assembly).Run(args);
return 0;
