using System.Globalization;

namespace Tailor.Benchmarks.Codecs;

/// <summary>
/// Real measured series from public packages (sensor motes, a web server's users per minute, births,
/// prices, weather; <c>benchmarks/corpus/real/README.md</c>), loaded from the corpus text files and
/// cut into blocks of at most <see cref="DefaultBlockPoints"/> points, as an S-file would store them.
/// </summary>
/// <remarks>
/// The text format: lines starting with <c>#</c> are comments; <c>@ name family</c> starts a series;
/// every other line is <c>unix-seconds,value</c> with the value as the source printed it (parsed with
/// the invariant culture, so each is the double nearest to that decimal). Timestamps must increase
/// within a series. The corpus is immutable once loaded.
/// </remarks>
public sealed class RealSeriesCorpus : ICodecCorpus
{
    /// <summary>Points per block at most: a day of minutes, the largest block of a 4 h window at 10 s.</summary>
    public const int DefaultBlockPoints = 1440;

    private readonly List<(string Name, int Family, int Offset, int Count)> _blocks = [];
    private readonly List<string> _families = [];
    private long[] _timestamps = [];
    private double[] _values = [];

    private RealSeriesCorpus()
    {
    }

    /// <summary>The folder the corpus files are copied to next to the assembly: <c>real-corpus</c>.</summary>
    public static string DefaultFolder => Path.Combine(AppContext.BaseDirectory, "real-corpus");

    /// <inheritdoc/>
    public int SeriesCount => _blocks.Count;

    /// <inheritdoc/>
    public long PointCount => _timestamps.Length;

    /// <inheritdoc/>
    public int MaxSeriesPointCount { get; private set; }

    /// <inheritdoc/>
    public IReadOnlyList<string> Families => _families;

    /// <summary>Loads every <c>*.txt</c> file of <paramref name="folder"/> in name order.</summary>
    /// <param name="folder">The corpus folder; default <see cref="DefaultFolder"/>.</param>
    /// <param name="blockPoints">Points per block at most (1 .. 2^24); default <see cref="DefaultBlockPoints"/>.</param>
    /// <exception cref="InvalidDataException">A line is malformed or a series' timestamps do not increase; the message names the file and line.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder holds no corpus file.</exception>
    public static RealSeriesCorpus Load(string? folder = null, int blockPoints = DefaultBlockPoints)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockPoints, 1);
        folder ??= DefaultFolder;
        var files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.txt").Order(StringComparer.Ordinal).ToArray() : [];
        if (files.Length == 0)
        {
            throw new DirectoryNotFoundException($"No real-series corpus files (*.txt) in '{folder}'.");
        }

        var corpus = new RealSeriesCorpus();
        var timestamps = new List<long>();
        var values = new List<double>();
        foreach (var file in files)
        {
            corpus.Read(file, blockPoints, timestamps, values);
        }

        corpus._timestamps = [.. timestamps];
        corpus._values = [.. values];
        return corpus;
    }

    /// <summary>The name of block <paramref name="series"/>: source file, series name and the block's number within it.</summary>
    public string Describe(int series) => _blocks[series].Name;

    /// <inheritdoc/>
    public int GetFamily(int series) => _blocks[series].Family;

    /// <summary>Timestamps (seconds) of block <paramref name="series"/>, strictly increasing.</summary>
    public ReadOnlySpan<long> GetTimestamps(int series) => _timestamps.AsSpan(_blocks[series].Offset, _blocks[series].Count);

    /// <summary>Values of block <paramref name="series"/>.</summary>
    public ReadOnlySpan<double> GetValues(int series) => _values.AsSpan(_blocks[series].Offset, _blocks[series].Count);

    private void Read(string file, int blockPoints, List<long> timestamps, List<double> values)
    {
        var source = Path.GetFileNameWithoutExtension(file);
        string? name = null;
        int family = -1;
        int start = timestamps.Count;
        int lineNumber = 0;
        foreach (var line in File.ReadLines(file))
        {
            lineNumber++;
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line[0] == '@')
            {
                AddBlocks(source, name, family, start, timestamps.Count, blockPoints);
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 3)
                {
                    throw Bad(file, lineNumber, "a series line must be '@ name family'");
                }

                name = parts[1];
                family = _families.IndexOf(parts[2]);
                if (family < 0)
                {
                    family = _families.Count;
                    _families.Add(parts[2]);
                }

                start = timestamps.Count;
                continue;
            }

            int comma = line.IndexOf(',');
            if (name is null || comma < 0
                || !long.TryParse(line.AsSpan(0, comma), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long t)
                || !double.TryParse(line.AsSpan(comma + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            {
                throw Bad(file, lineNumber, name is null ? "a point before any '@ name family' line" : "a point must be 'unix-seconds,value'");
            }

            if (timestamps.Count > start && t <= timestamps[^1])
            {
                throw Bad(file, lineNumber, $"timestamp {t} does not increase in series '{name}'");
            }

            timestamps.Add(t);
            values.Add(v);
        }

        AddBlocks(source, name, family, start, timestamps.Count, blockPoints);
    }

    private void AddBlocks(string source, string? name, int family, int start, int end, int blockPoints)
    {
        if (name is null)
        {
            return;
        }

        for (int at = start, part = 0; at < end; at += blockPoints, part++)
        {
            int count = Math.Min(blockPoints, end - at);
            _blocks.Add(($"{source}/{name}#{part}", family, at, count));
            MaxSeriesPointCount = Math.Max(MaxSeriesPointCount, count);
        }
    }

    private static InvalidDataException Bad(string file, int line, string what) =>
        new($"{Path.GetFileName(file)}:{line}: {what}.");
}
