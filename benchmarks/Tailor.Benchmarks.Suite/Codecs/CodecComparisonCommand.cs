using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tailor.Benchmarks.Codecs;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/Tailor.Benchmarks -- codecs [--series N] [--seed S]
/// [--iterations R] [--no-parquet] [--variants] [--real] [--json]</c>: runs <see cref="CodecComparison"/> and prints
/// a Markdown table (or the JSON result) on stdout, progress on stderr. <c>--real</c> measures the real-series
/// corpus (<see cref="RealSeriesCorpus"/>) instead of the generated one.
/// </summary>
public static class CodecComparisonCommand
{
    /// <summary>Parses the arguments, runs the comparison and prints it.</summary>
    /// <param name="args">The arguments after <c>codecs</c>.</param>
    /// <returns>The process exit code: 0, or 2 for bad arguments.</returns>
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int series = 2_000;
        ulong seed = 42;
        int iterations = 5;
        bool parquet = true;
        bool json = false;
        bool variants = false;
        bool real = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--series" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out series) && series > 0:
                case "--seed" when i + 1 < args.Length && ulong.TryParse(args[i + 1], CultureInfo.InvariantCulture, out seed):
                case "--iterations" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out iterations) && iterations > 0:
                    i++;
                    break;
                case "--no-parquet":
                    parquet = false;
                    break;
                case "--json":
                    json = true;
                    break;
                case "--variants":
                    variants = true;
                    break;
                case "--real":
                    real = true;
                    break;
                default:
                    Console.Error.WriteLine($"codecs: bad argument '{args[i]}'. Usage: codecs [--series N] [--seed S] [--iterations R] [--no-parquet] [--variants] [--real] [--json]");
                    return 2;
            }
        }

        var options = new CodecComparisonOptions { SeriesCount = series, Seed = seed, Iterations = iterations, IncludeParquet = parquet };
        if (variants)
        {
            options = new CodecComparisonOptions
            {
                SeriesCount = series,
                Seed = seed,
                Iterations = iterations,
                IncludeParquet = parquet,
                Codecs = CodecComparisonOptions.EveryCodec,
            };
        }

        var result = real ? CodecComparison.Run(RealSeriesCorpus.Load(), options, Console.Error) : CodecComparison.Run(options, Console.Error);
        Console.Out.WriteLine(json ? JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }) : FormatTable(result));
        return 0;
    }

    /// <summary>Formats the result as Markdown tables: overall, then bytes per point and decode speed per family.</summary>
    /// <param name="result">A comparison result.</param>
    /// <returns>The Markdown text.</returns>
    public static string FormatTable(CodecComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine(inv, $"Corpus: {result.Corpus}, {result.Series} series, {result.Points} points (seed {result.Seed}); {result.Machine}; default codec: {result.DefaultCodec}");
        text.AppendLine();
        text.AppendLine("| codec | bytes/point | encode Mpoints/s | decode Mpoints/s |");
        text.AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var (name, f) in result.Codecs)
        {
            string bytes = f.BytesPerPointWithSeriesKey is { } withKey ? $"{f.BytesPerPoint:F3} ({withKey:F3} with series key)" : $"{f.BytesPerPoint:F3}";
            text.AppendLine(inv, $"| {name} | {bytes} | {f.EncodePointsPerSec / 1e6:F1} | {f.DecodePointsPerSec / 1e6:F1} |");
        }

        text.AppendLine();
        var names = result.Codecs.Keys.ToList();
        text.Append("| family | series | points |");
        foreach (var name in names)
        {
            text.Append(inv, $" {name} B/pt |");
        }

        foreach (var name in names)
        {
            text.Append(inv, $" {name} enc Mpt/s |");
        }

        foreach (var name in names)
        {
            text.Append(inv, $" {name} dec Mpt/s |");
        }

        text.AppendLine();
        text.Append("| --- | ---: | ---: |");
        text.Append(string.Concat(Enumerable.Repeat(" ---: |", names.Count * 3)));
        text.AppendLine();
        foreach (var (family, first) in result.Codecs[names[0]].Families)
        {

            text.Append(inv, $"| {family} | {first.Series} | {first.Points} |");
            foreach (var name in names)
            {
                text.Append(inv, $" {result.Codecs[name].Families[family].BytesPerPoint:F3} |");
            }

            foreach (var name in names)
            {
                text.Append(inv, $" {result.Codecs[name].Families[family].EncodePointsPerSec / 1e6:F1} |");
            }

            foreach (var name in names)
            {
                text.Append(inv, $" {result.Codecs[name].Families[family].DecodePointsPerSec / 1e6:F1} |");
            }

            text.AppendLine();
        }

        return text.ToString();
    }
}
