using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Tailor.Storage.Tests;

public sealed class ObjectKeysTests
{
    private static readonly DateTimeOffset Hour = new(2026, 11, 26, 5, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Keys_have_the_designed_shape()
    {
        var shard = ShardName.Shared(7);
        var key = ObjectKeys.Segment(shard, Hour.AddMinutes(42).AddSeconds(3), 0x00f3a9c2b18e4d77, 42);
        Assert.Matches(@"^segments/org-mod-7/2026-11-26T05/[0-9a-f]{2}/00f3a9c2b18e4d77-0000000042\.tseg$", key);

        var window = new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal("series/org-123456/2026-11-26T00:00Z/00003.tsf", ObjectKeys.SeriesFile(ShardName.Dedicated(123456), window, 3));
        Assert.Equal("series/org-mod-0/2026-11-26T00:00Z/_manifest.json", ObjectKeys.Manifest(ShardName.Shared(0), window));
        Assert.Equal("deadletter/metrics-3/12/0000000000000004711.bin", ObjectKeys.DeadLetter("metrics-3", 12, 4711));
        Assert.Equal("segments/org-mod-7/2026-11-26T05/", ObjectKeys.SegmentHourPrefix(shard, Hour.AddMinutes(59)));
        Assert.Equal("series/org-mod-7/2026-11-26T00:00Z/", ObjectKeys.SeriesWindowPrefix(shard, window));
        Assert.Equal("2026-11-26T00:00Z", ObjectKeys.FormatWindowStart(window.ToOffset(TimeSpan.FromHours(2))));
    }

    [Property(MaxTest = 300)]
    public bool Segment_keys_round_trip(uint shardNumber, bool dedicated, ulong writer, NonNegativeInt sequence, byte hours, PositiveInt digits)
    {
        var shard = dedicated ? ShardName.Dedicated(shardNumber) : ShardName.Shared(shardNumber % 4096);
        var opened = Hour.AddHours(hours).AddMinutes(hours % 60);
        var spread = 1 + (digits.Get % 4);
        var key = ObjectKeys.Segment(shard, opened, writer, sequence.Get, spread);

        return ObjectKeys.TryParseSegment(key, out var parsed)
            && parsed.Shard == shard && parsed.WriterId == writer && parsed.Sequence == sequence.Get
            && parsed.Hour == Hour.AddHours(hours) && parsed.Spread.Length == spread
            && parsed.ToKey() == key
            && ObjectKeyRules.Check(key) is null;
    }

    [Property(MaxTest = 200)]
    public bool Series_and_dead_letter_keys_round_trip(uint org, NonNegativeInt part, ushort days, NonNegativeInt partition, long offset)
    {
        var shard = ShardName.Dedicated(org);
        var window = new DateTimeOffset(2026, 1, 1, 4, 0, 0, TimeSpan.Zero).AddDays(days).AddHours(4 * (days % 6));
        var file = ObjectKeys.SeriesFile(shard, window, part.Get);
        var manifest = ObjectKeys.Manifest(shard, window);
        var letter = ObjectKeys.DeadLetter("topic_a.b-c", partition.Get, Math.Abs(offset % long.MaxValue));

        return ObjectKeys.TryParseSeriesFile(file, out var parsedFile) && parsedFile == new SeriesFileKey(shard, window, part.Get) && parsedFile.ToKey() == file
            && ObjectKeys.TryParseManifest(manifest, out var manifestShard, out var manifestWindow) && manifestShard == shard && manifestWindow == window
            && !ObjectKeys.TryParseManifest(file, out _, out _) && !ObjectKeys.TryParseSeriesFile(manifest, out _)
            && ObjectKeys.TryParseDeadLetter(letter, out var parsedLetter) && parsedLetter.ToKey() == letter;
    }

    [Property(MaxTest = 300)]
    public bool Parsers_accept_only_canonical_keys(string text)
    {
        // Whatever parses must rebuild to exactly the same text: one spelling per key.
        return (!ObjectKeys.TryParseSegment(text, out var s) || s.ToKey() == text)
            && (!ObjectKeys.TryParseSeriesFile(text, out var f) || f.ToKey() == text)
            && (!ObjectKeys.TryParseDeadLetter(text, out var d) || d.ToKey() == text)
            && (!ShardName.TryParse(text, out var shard) || shard.Value == text);
    }

    [Theory]
    [InlineData("org-mod-01")]
    [InlineData("org-mod-")]
    [InlineData("org-mod--1")]
    [InlineData("org-")]
    [InlineData("org-007")]
    [InlineData("org-4294967296")]
    [InlineData("org-1/../x")]
    [InlineData("Org-1")]
    [InlineData("org-1 ")]
    [InlineData("shard-1")]
    public void Bad_shard_names_are_refused(string text)
    {
        Assert.False(ShardName.TryParse(text, out _));
        Assert.Throws<FormatException>(() => ShardName.Parse(text));
    }

    [Theory]
    [InlineData("segments/org-mod-7/2026-11-26T05/zz/00f3a9c2b18e4d77-0000000042.tseg")]
    [InlineData("segments/org-mod-7/2026-11-26T05/00/00f3a9c2b18e4d77-0000000042.tseg")]
    [InlineData("segments/org-mod-7/2026-11-26T05/a7/00F3A9C2B18E4D77-0000000042.tseg")]
    [InlineData("segments/org-mod-7/2026-11-26T05/a7/00f3a9c2b18e4d77-42.tseg")]
    [InlineData("segments/org-mod-07/2026-11-26T05/a7/00f3a9c2b18e4d77-0000000042.tseg")]
    [InlineData("segments/org-mod-7/2026-11-26T5/a7/00f3a9c2b18e4d77-0000000042.tseg")]
    [InlineData("segments/org-mod-7/../a7/00f3a9c2b18e4d77-0000000042.tseg")]
    [InlineData("segments/org-mod-7/2026-11-26T05/a7/x/00f3a9c2b18e4d77-0000000042.tseg")]
    public void Bad_segment_keys_do_not_parse(string key) => Assert.False(ObjectKeys.TryParseSegment(key, out _));

    [Theory]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData("white space")]
    public void Dead_letter_topics_cannot_leave_their_prefix(string topic) =>
        Assert.Throws<ArgumentException>(() => ObjectKeys.DeadLetter(topic, 0, 0));

    [Fact]
    public void Window_starts_are_whole_minutes_in_one_spelling()
    {
        Assert.Throws<ArgumentException>(() => ObjectKeys.FormatWindowStart(Hour.AddSeconds(1)));
        Assert.True(ObjectKeys.TryParseWindowStart("2026-11-26T00:00Z", out var start));
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero), start);
        Assert.False(ObjectKeys.TryParseWindowStart("2026-11-26T00:00", out _));
        Assert.False(ObjectKeys.TryParseWindowStart("2026-11-26T00:00:00Z", out _));
        Assert.Throws<ArgumentException>(() => ObjectKeys.SeriesFile(default, Hour, 0));
    }

    [Fact]
    public void The_spread_gives_the_worked_values_of_the_p_rule_in_docs_format_md()
    {
        Assert.Equal("27", ObjectKeys.Spread(0x00f3a9c2b18e4d77, 42));
        Assert.Equal("2733", ObjectKeys.Spread(0x00f3a9c2b18e4d77, 42, 4));
        Assert.Equal("56", ObjectKeys.Spread(1, 0));
        Assert.Equal("segments/org-mod-7/2026-11-26T05/27/00f3a9c2b18e4d77-0000000042.tseg",
            ObjectKeys.Segment(ShardName.Shared(7), new DateTimeOffset(2026, 11, 26, 5, 30, 0, TimeSpan.Zero), 0x00f3a9c2b18e4d77, 42));
    }

    [Fact]
    public void The_spread_covers_the_sub_prefixes_of_one_shard_hour()
    {
        var writer = ObjectKeys.NewWriterId();
        var prefixes = Enumerable.Range(0, 2000).Select(i => ObjectKeys.Spread(writer, i)).ToHashSet();
        Assert.True(prefixes.Count > 240, $"only {prefixes.Count} of 256 sub-prefixes used");
        Assert.All(prefixes, p => Assert.Matches("^[0-9a-f]{2}$", p));
        Assert.Equal(ObjectKeys.Spread(0x1234, 5), ObjectKeys.Spread(0x1234, 5));
        Assert.NotEqual(0UL, writer);
        Assert.Equal(16, ObjectKeys.FormatWriterId(writer).Length);
    }
}
