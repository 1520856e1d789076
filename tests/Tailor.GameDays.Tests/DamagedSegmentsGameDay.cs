using System.Globalization;
using Tailor.Format.Segments;
using Tailor.GameDays.Tests.Kit;
using Tailor.Storage;
using Tailor.Testing;
using Xunit.Abstractions;

namespace Tailor.GameDays.Tests;

/// <summary>
/// Game day 5: segments damaged in the store — bits flipped inside one record, another segment cut off in
/// its last record (footer and trailer gone) — then compacted with <c>tailor compact</c> and checked with
/// <c>tailor verify</c>: the damage is counted, everything else is compacted, and verify against an intact
/// copy of the segments names exactly the points that only the damaged records held.
/// </summary>
[Collection(GameDaysCollection.Name)]
[Trait("Category", "GameDays")]
public sealed class DamagedSegmentsGameDay(ITestOutputHelper output)
{
    [Fact]
    public async Task Damaged_records_are_counted_the_rest_is_compacted_and_verify_names_exactly_their_points()
    {
        var figures = new Figures(output, "5-damaged-segments");
        using var root = new TempFolder("gameday-damage");
        var window = SegmentStore.Window;
        var map = new ShardMap(1);
        var shard = ShardName.Shared(0);
        var workload = GameDayWorkload.Generate(seed: 505, points: 300_000, series: 3000, orgs: 20, startTime: SegmentStore.WindowStart);
        var intactPath = Path.Combine(root.Path, "intact");
        var damagedPath = Path.Combine(root.Path, "damaged");
        var keys = (await SegmentStore.WriteAsync(intactPath, workload, map, maxSegmentPayloads: 500)).Order(StringComparer.Ordinal).ToList();
        SegmentStore.CopySegments(intactPath, damagedPath);
        Assert.True(keys.Count >= 4, $"{keys.Count} segments: too few to damage two and keep others");
        figures.Log($"workload: {workload.Frames.Count} payloads, {workload.Points} points in {keys.Count} segments");

        // Flip bits inside one record of one segment; cut another off in the middle of its last record.
        var flipped = Damage(damagedPath, keys[1], workload, (bytes, records) =>
        {
            var victim = records.Skip(records.Count / 2).First(r => workload.ProducedCopies[GameDayWorkload.HashOf(r.Frame)] == 1);
            var at = victim.Offset + SegmentFormat.RecordHeaderLength + (victim.Frame.Length / 2);
            bytes[at] ^= 0x5A;
            bytes[at + 1] ^= 0x01;
            return (bytes, [victim]);
        });
        var truncated = Damage(damagedPath, keys[^2], workload, (bytes, records) =>
        {
            var last = records[^1];
            var cut = (int)(last.Offset + SegmentFormat.RecordHeaderLength + (last.Frame.Length / 2));
            return (bytes[..cut], [last]);
        });
        var lost = flipped.Concat(truncated).ToList();
        figures.Log($"damaged: {keys[1]} (bits flipped in the record at {flipped[0].Offset}), {keys[^2]} (cut in its last record at {truncated[0].Offset}: footer and trailer gone)");

        // What the damage costs, from the generated payloads: points whose only copies were in the lost records (missing),
        // and points whose winning value was in a lost record while another copy with another value survived (different).
        var lostIndices = LostFrameIndices(workload, lost);
        var all = Winners(workload, map, shard, window, _ => true);
        var surviving = Winners(workload, map, shard, window, f => !lostIndices.Contains(f.Index));
        var expectedMissing = all.Keys.Count(k => !surviving.ContainsKey(k));
        var expectedDifferent = all.Count(p => surviving.TryGetValue(p.Key, out var s) && s.Bits != p.Value.Bits);
        var lostPoints = lost.Sum(r => GameDayWorkload.PointsOf(r.Frame).Count(p => window.Contains(p.Timestamp)));
        figures.Log($"the lost records held {lostPoints} points of the window: {expectedMissing} of them nowhere else, {expectedDifferent} winning values replaced by an older copy");
        Assert.True(expectedMissing > 0, "the damaged records held no point of their own: the scenario proves nothing");

        // tailor compact on the damaged store: damage counted, the rest compacted.
        var damagedUri = new Uri(damagedPath).AbsoluteUri;
        var compact = await TailorRun.RunAsync("compact", "--store", damagedUri, "--shard", shard.Value, "--window", window.ToString(), "--work-dir", Path.Combine(root.Path, "work"), "--json");
        Assert.True(compact.Code == 0, compact.ToString());
        var report = compact.Json();
        figures.Log($"tailor compact: exit 0, points in {report.GetProperty("points_in")}, out {report.GetProperty("points_out")}, damaged records {report.GetProperty("damaged_records")}, regions {report.GetProperty("damaged_regions")}, bytes {report.GetProperty("damaged_bytes")}, unreadable segments {report.GetProperty("unreadable_segments")}");
        Assert.Equal(lost.Count, report.GetProperty("damaged_records").GetInt64());
        Assert.Equal(surviving.Count, report.GetProperty("points_out").GetInt64());
        var part = report.GetProperty("parts").EnumerateArray().Single().GetProperty("key").GetString()!;
        var partHash = SegmentStore.SeriesObjects(damagedPath)[part];
        Assert.Equal(SegmentStore.ReferenceHash(workload, map, shard, window, f => !lostIndices.Contains(f.Index)), partHash);

        // tailor verify on the damaged store: one to one with what can still be read, the damage counted again.
        // The cut segment lost its trailer: verify fails on it until the loss is accepted.
        Assert.Equal(1, report.GetProperty("incomplete_segments").GetInt32());
        var refused = await TailorRun.RunAsync("verify", "--store", damagedUri, "--shard", shard.Value, "--window", window.ToString(), "--work-dir", Path.Combine(root.Path, "work"), "--json");
        Assert.True(refused.Code == 3, refused.ToString());
        Assert.Equal("incomplete_segments", refused.Json().GetProperty("outcome").GetString());
        Assert.Contains("--accept-incomplete", refused.Json().GetProperty("fix").GetString(), StringComparison.Ordinal);
        var verifyDamaged = await TailorRun.RunAsync("verify", "--store", damagedUri, "--shard", shard.Value, "--window", window.ToString(), "--work-dir", Path.Combine(root.Path, "work"), "--json", "--accept-incomplete");
        Assert.True(verifyDamaged.Code == 0, verifyDamaged.ToString());
        var damagedCheck = verifyDamaged.Json();
        Assert.Equal(0, damagedCheck.GetProperty("missing").GetInt64());
        Assert.Equal(lost.Count, damagedCheck.GetProperty("damaged_records").GetInt64());
        figures.Log($"tailor verify on the damaged store: exit 0, expected {damagedCheck.GetProperty("expected")}, found {damagedCheck.GetProperty("found")}, damaged records {damagedCheck.GetProperty("damaged_records")}");

        // The S-files and manifest next to the intact segments (a replica, or the sink replayed from Kafka): verify names the loss.
        foreach (var file in Directory.EnumerateFiles(Path.Combine(damagedPath, "series"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(intactPath, Path.GetRelativePath(damagedPath, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var verify = await TailorRun.RunAsync("verify", "--store", new Uri(intactPath).AbsoluteUri, "--shard", shard.Value, "--window", window.ToString(), "--work-dir", Path.Combine(root.Path, "work"), "--json");
        var check = verify.Json();
        figures.Log($"tailor verify against the intact segments: exit {verify.Code}, expected {check.GetProperty("expected")}, found {check.GetProperty("found")}, missing {check.GetProperty("missing")}, different {check.GetProperty("different")}, extra {check.GetProperty("extra")}, manifest inputs current {check.GetProperty("manifest_inputs_current")}");
        foreach (var sample in check.GetProperty("samples").EnumerateArray().Take(5))
        {
            figures.Log($"  {sample.GetString()}");
        }

        // Each point verify names as missing is one the lost records alone held.
        var namedMissing = 0;
        foreach (var sample in check.GetProperty("samples").EnumerateArray().Select(s => s.GetString()!).Where(s => s.StartsWith("missing point ", StringComparison.Ordinal)))
        {
            var words = sample["missing point ".Length..].Split(' ');
            var series = words[0].Split(':');
            var key = (uint.Parse(series[0], CultureInfo.InvariantCulture), ulong.Parse(series[1], CultureInfo.InvariantCulture), ulong.Parse(series[2], CultureInfo.InvariantCulture),
                long.Parse(words[1].TrimStart('@'), CultureInfo.InvariantCulture));
            Assert.True(all.ContainsKey(key) && !surviving.ContainsKey(key), $"verify names {sample}, which is not a point only the damaged records held");
            namedMissing++;
        }

        Assert.True(namedMissing > 0, "verify named no missing point");
        Assert.Equal(3, verify.Code);
        Assert.Equal(all.Count, check.GetProperty("expected").GetInt64());
        Assert.Equal(expectedMissing, check.GetProperty("missing").GetInt64());
        Assert.Equal(expectedDifferent, check.GetProperty("different").GetInt64());
        Assert.Equal(0, check.GetProperty("extra").GetInt64());
        Assert.Equal(all.Count - expectedMissing - expectedDifferent, check.GetProperty("found").GetInt64());
        Assert.False(check.GetProperty("manifest_inputs_current").GetBoolean());

        figures.Set("payloads", workload.Frames.Count);
        figures.Set("points", workload.Points);
        figures.Set("segments", keys.Count);
        figures.Set("damaged_records", report.GetProperty("damaged_records").GetInt64());
        figures.Set("damaged_regions", report.GetProperty("damaged_regions").GetInt64());
        figures.Set("lost_record_points", lostPoints);
        figures.Set("points_out", report.GetProperty("points_out").GetInt64());
        figures.Set("verify_expected", check.GetProperty("expected").GetInt64());
        figures.Set("verify_missing", check.GetProperty("missing").GetInt64());
        figures.Set("verify_different", check.GetProperty("different").GetInt64());
        figures.Set("compact_s", compact.Elapsed);
        figures.Print();
    }

    private static List<(long Offset, byte[] Frame)> Damage(string storePath, string key, GameDayWorkload workload, Func<byte[], List<(long Offset, byte[] Frame)>, (byte[] Bytes, List<(long Offset, byte[] Frame)> Lost)> damage)
    {
        var path = Path.Combine(storePath, key);
        var bytes = File.ReadAllBytes(path);
        var layout = SegmentLayout.Read(bytes);
        var reader = SegmentReader.OverFile(bytes, layout.CreateFileState());
        var records = new List<(long Offset, byte[] Frame)>();
        while (reader.TryReadRecord(out var record))
        {
            records.Add((record.Offset, record.Frame.ToArray()));
        }

        Assert.All(records, r => Assert.True(workload.ProducedCopies.ContainsKey(GameDayWorkload.HashOf(r.Frame))));
        var (damaged, lost) = damage(bytes, records);
        var time = File.GetLastWriteTimeUtc(path);
        File.WriteAllBytes(path, damaged);
        File.SetLastWriteTimeUtc(path, time);
        return lost;
    }

    /// <summary>One workload index per lost record: byte-identical deliveries are interchangeable, so any one copy stands for the record.</summary>
    private static HashSet<int> LostFrameIndices(GameDayWorkload workload, List<(long Offset, byte[] Frame)> lost)
    {
        var indices = new HashSet<int>();
        foreach (var record in lost)
        {
            var hash = GameDayWorkload.HashOf(record.Frame);
            indices.Add(workload.Frames.First(f => f.Hash == hash && !indices.Contains(f.Index)).Index);
        }

        return indices;
    }

    /// <summary>The winning (intake time, value bits) of every (series, timestamp) of the window, by the duplicate rule of DESIGN.md.</summary>
    private static Dictionary<(uint Org, ulong Metric, ulong Context, long Timestamp), (long Intake, ulong Bits)> Winners(
        GameDayWorkload workload, ShardMap map, ShardName shard, Compaction.CompactionWindow window, Func<GeneratedFrame, bool> include)
    {
        var winners = new Dictionary<(uint, ulong, ulong, long), (long Intake, ulong Bits)>();
        foreach (var frame in workload.Frames)
        {
            if (map.Route(frame.Org) != shard || !include(frame))
            {
                continue;
            }

            foreach (var point in GameDayWorkload.PointsOf(frame.Frame))
            {
                if (!window.Contains(point.Timestamp))
                {
                    continue;
                }

                var key = (point.Key.OrgId, point.Key.MetricId, point.Key.ContextKey, point.Timestamp);
                var bits = BitConverter.DoubleToUInt64Bits(point.Value);
                if (!winners.TryGetValue(key, out var current) || point.IntakeTime > current.Intake || (point.IntakeTime == current.Intake && bits > current.Bits))
                {
                    winners[key] = (point.IntakeTime, bits);
                }
            }
        }

        return winners;
    }
}
