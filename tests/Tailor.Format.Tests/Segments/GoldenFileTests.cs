using Tailor.Format.Payloads;
using Tailor.Format.Segments;
using Tailor.Format.Tests.Support;

namespace Tailor.Format.Tests.Segments;

/// <summary>
/// Files of each format version are checked in under golden/: old files must still read, and the
/// bytes written today must equal them, so a format change fails loudly. Regenerate deliberately
/// with TAILOR_REGENERATE_GOLDEN=1 (and bump the version in docs/format.md).
/// </summary>
public sealed class GoldenFileTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "golden");

    private static TestPayload[] Payloads()
    {
        var rng = new Random(2026);
        return Enumerable.Range(0, 6).Select(_ => TestPayloads.Random(rng, 5, 30)).ToArray();
    }

    [Fact]
    public void Payload_v1_golden_files_read_and_match_what_is_written_today()
    {
        var payload = Payloads().MaxBy(p => p.PointCount)!;
        using var writer = new PayloadWriter();
        using var decoder = new PayloadDecoder();
        var body = TestPayloads.EncodeBody(writer, payload);
        var frame = TestPayloads.Encode(writer, payload);
        Regenerate("payload-v1.bin", body);
        Regenerate("payload-v1.zst", frame);

        var goldenBody = File.ReadAllBytes(Path.Combine(Folder, "payload-v1.bin"));
        var goldenFrame = File.ReadAllBytes(Path.Combine(Folder, "payload-v1.zst"));
        Assert.Equal(goldenBody, body);
        Assert.True(TestPayloads.DecodeBody(goldenBody).SameAs(payload));
        Assert.True(TestPayloads.Decode(decoder, goldenFrame).SameAs(payload));
    }

    [Fact]
    public void Segment_v1_golden_file_reads_and_matches_what_is_written_today()
    {
        using var writer = new PayloadWriter();
        using var decoder = new PayloadDecoder();
        var payloads = Payloads();
        var frames = payloads.Select(p => TestPayloads.Encode(writer, p)).ToArray();
        Regenerate("segment-v1-frames.bin", frames.SelectMany(f => BitConverter.GetBytes(f.Length).Concat(f)).ToArray());

        // Frames come from the golden file so the check does not depend on the zstd version.
        var stored = File.ReadAllBytes(Path.Combine(Folder, "segment-v1-frames.bin"));
        var goldenFrames = new List<byte[]>();
        for (var p = 0; p < stored.Length;)
        {
            var n = BitConverter.ToInt32(stored, p);
            goldenFrames.Add(stored[(p + 4)..(p + 4 + n)]);
            p += 4 + n;
        }

        var segment = TestSegments.Build(goldenFrames, blockTargetBytes: 1500);
        Regenerate("segment-v1.tseg", segment.File);
        var golden = File.ReadAllBytes(Path.Combine(Folder, "segment-v1.tseg"));
        Assert.Equal(golden, segment.File);

        var (records, stats) = TestSegments.ReadAll(golden, ReaderKind.Span);
        Assert.Equal(payloads.Length, records.Count);
        Assert.Equal(0, stats.DamagedRegions);
        for (var i = 0; i < payloads.Length; i++)
        {
            Assert.True(TestPayloads.Decode(decoder, records[i].Frame).SameAs(payloads[i]));
        }

        var layout = SegmentLayout.Read(golden);
        Assert.Equal(payloads.Sum(p => p.PointCount), layout.Footer!.Stats.PointCount);
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
