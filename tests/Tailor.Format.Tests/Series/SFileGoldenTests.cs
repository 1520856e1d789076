using Tailor.Format.Codecs;
using Tailor.Format.Series;
using Tailor.Format.Tests.Codecs;

namespace Tailor.Format.Tests.Series;

/// <summary>
/// S-files of format v1 are checked in under golden/: old files must still read, and the bytes written
/// today must equal them, so a format change fails loudly. Regenerate deliberately with
/// TAILOR_REGENERATE_GOLDEN=1 (and bump the version in docs/format.md).
/// </summary>
[Collection(SFileTestCollection.Name)]
public sealed class SFileGoldenTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "golden");

    /// <summary>Workload series plus one of every special bit pattern and extreme timestamp.</summary>
    private static TestSeries[] Series()
    {
        var series = TestSFiles.Corpus(12, seed: 2026).ToList();
        var special = CodecTestData.SpecialBits.Select(BitConverter.UInt64BitsToDouble).ToArray();
        var ts = CodecTestData.SpecialTimestamps.Distinct().Order().ToArray();
        series.Add(new TestSeries(new SeriesKey(uint.MaxValue, ulong.MaxValue, ulong.MaxValue), "special"u8.ToArray(), ts, special[..ts.Length]));
        series.Add(new TestSeries(new SeriesKey(0, 0, 0), [], [long.MinValue], [double.NaN]));
        return [.. series.OrderBy(s => s.Key)];
    }

    public static TheoryData<string, string, bool> Files() => new()
    {
        { "sfile-v1.tsf", "tailor", true },
        { "sfile-v1-gorilla-plain.tsf", "gorilla", false },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void S_file_v1_golden_files_read_and_match_what_is_written_today(string name, string codec, bool compressIndex)
    {
        var series = Series();
        var written = TestSFiles.Write(series, new SFileWriterOptions
        {
            Codec = SeriesCodecRegistry.Shared.Get(codec),
            Shard = "org-mod-7",
            WindowStart = 1_795_651_200,
            WindowSeconds = 14_400,
            IndexPageTargetBytes = 600,
            CompressIndexPages = compressIndex,
        });
        Regenerate(name, written);

        var golden = File.ReadAllBytes(Path.Combine(Folder, name));
        Assert.Equal(golden, written);
        Assert.Null(TestSFiles.Compare(series, TestSFiles.Scan(golden)));
        var header = SFileHeader.Read(golden);
        Assert.Equal(new SFileHeader(1, SeriesCodecRegistry.Shared.Get(codec).Id, "org-mod-7", 1_795_651_200, 14_400), header);
        var footer = SFileLayout.Read(golden).Footer;
        Assert.True(footer.PageCount >= 3);
        Assert.Equal(series.Sum(s => (long)s.Timestamps.Length), footer.Stats.PointCount);
    }

    private static void Regenerate(string name, byte[] bytes)
    {
        if (Environment.GetEnvironmentVariable("TAILOR_REGENERATE_GOLDEN") != "1")
        {
            return;
        }

        var source = Path.Combine(FindRepositoryRoot(), "tests", "Tailor.Format.Tests", "golden");
        Directory.CreateDirectory(source);
        File.WriteAllBytes(Path.Combine(source, name), bytes);
        Directory.CreateDirectory(Folder);
        File.WriteAllBytes(Path.Combine(Folder, name), bytes);
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Tailor.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
