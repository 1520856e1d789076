using System.Text;
using System.Text.Json.Nodes;
using Tailor.Storage;

namespace Tailor.Compaction.Tests.Distribution;

public sealed class JobMessageTests
{
    private static readonly CompactionJob Job = new(
        ShardName.Shared(3),
        CompactionWindow.Parse("2026-11-26T04:00Z/4h"),
        [
            new SegmentInput("segments/org-mod-3/2026-11-26T05/a7/00c0ffee00c0ffee-0000000002.tseg", 2048, "\"e2\""),
            new SegmentInput("segments/org-mod-3/2026-11-26T04/1b/00c0ffee00c0ffee-0000000001.tseg", 1024, "\"e1\""),
        ]);

    [Fact]
    public void A_job_survives_the_message_round_trip_with_its_inputs_and_generation()
    {
        var value = CompactionJobMessage.Serialize(Job, DateTimeOffset.Parse("2026-11-26T08:10:00Z"));
        var parsed = CompactionJobMessage.Parse(value);

        Assert.Equal("org-mod-3|2026-11-26T04:00Z/4h", CompactionJobMessage.KeyOf(Job));
        Assert.Equal(Job.Shard, parsed.Shard);
        Assert.Equal(Job.Window, parsed.Window);
        Assert.Equal(Job.Inputs, parsed.Inputs);
        Assert.Equal(Job.Generation, parsed.Generation);

        var json = JsonNode.Parse(value)!;
        Assert.Equal("tailor-compaction-job", (string?)json["format"]);
        Assert.Equal(1, (int?)json["version"]);
        Assert.Equal(3072, (long?)json["input_bytes"]);
        Assert.Equal(Job.Inputs[0].Key, (string?)json["inputs"]![0]!["key"]);
    }

    [Fact]
    public void A_message_whose_inputs_were_altered_is_refused_by_its_generation()
    {
        var json = JsonNode.Parse(CompactionJobMessage.Serialize(Job))!;
        json["inputs"]!.AsArray().RemoveAt(1);
        var problem = Assert.Throws<FormatException>(() => CompactionJobMessage.Parse(Encoding.UTF8.GetBytes(json.ToJsonString())));
        Assert.Contains("does not match its 1 inputs", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("{\"format\":\"tailor-manifest\",\"version\":1}", "not a compaction job")]
    [InlineData("{\"format\":\"tailor-compaction-job\",\"version\":2}", "version 2")]
    [InlineData("{\"format\":\"tailor-compaction-job\",\"version\":1,\"shard\":\"shard-7\",\"window\":\"2026-11-26T00:00Z/4h\",\"inputs\":[]}", "no valid shard")]
    [InlineData("{\"format\":\"tailor-compaction-job\",\"version\":1,\"shard\":\"org-mod-7\",\"window\":\"2026-11-26T01:00Z/4h\",\"inputs\":[]}", "window is not valid")]
    [InlineData("{\"format\":\"tailor-compaction-job\",\"version\":1,\"shard\":\"org-mod-7\",\"window\":\"2026-11-26T00:00Z/4h\"}", "inputs are missing")]
    public void Anything_but_a_valid_job_is_refused_with_the_reason(string value, string reason)
    {
        var problem = Assert.Throws<FormatException>(() => CompactionJobMessage.Parse(Encoding.UTF8.GetBytes(value)));
        Assert.Contains(reason, problem.Message, StringComparison.Ordinal);
    }
}
