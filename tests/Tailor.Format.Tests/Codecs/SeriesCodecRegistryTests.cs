using System.Buffers;
using Tailor.Format.Codecs;

namespace Tailor.Format.Tests.Codecs;

public class SeriesCodecRegistryTests
{
    private sealed class FakeCodec(byte id, string name) : ISeriesCodec
    {
        public byte Id => id;

        public string Name => name;

        public int GetMaxEncodedLength(int pointCount) => 0;

        public int Encode(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, Span<byte> destination) => 0;

        public OperationStatus Decode(ReadOnlySpan<byte> source, Span<long> timestamps, Span<double> values, out int pointsDecoded, out int bytesConsumed)
        {
            pointsDecoded = 0;
            bytesConsumed = 0;
            return OperationStatus.Done;
        }

        public OperationStatus ReadPointCount(ReadOnlySpan<byte> source, out int pointCount)
        {
            pointCount = 0;
            return OperationStatus.Done;
        }
    }

    [Fact]
    public void Built_ins_resolve_by_id_and_name()
    {
        var registry = new SeriesCodecRegistry();
        Assert.Same(SeriesCodecs.Gorilla, registry.Get(1));
        Assert.Same(SeriesCodecs.Tailor, registry.Get(2));
        Assert.Same(SeriesCodecs.Gorilla, registry.Get("GORILLA"));
        Assert.Same(SeriesCodecs.Tailor, registry.Get("tailor"));
        Assert.Same(SeriesCodecs.Tailor2, registry.Get(3));
        Assert.Same(SeriesCodecs.Tailor2, registry.Get("Tailor2"));
        Assert.Same(SeriesCodecs.Tailor3, registry.Get(4));
        Assert.Same(SeriesCodecs.Tailor3, registry.Get("tailor3"));
        Assert.False(registry.TryGet(0, out _));
        Assert.False(registry.TryGet("zstd", out _));
        Assert.Throws<KeyNotFoundException>(() => registry.Get(200));
        Assert.Equal(["gorilla", "tailor", "tailor2", "tailor3"], registry.Codecs.Select(c => c.Name));
    }

    [Fact]
    public void User_codecs_register_in_the_user_range_only()
    {
        var registry = new SeriesCodecRegistry();
        var mine = new FakeCodec(200, "mine");
        registry.Register(mine);
        Assert.Same(mine, registry.Get(200));
        Assert.Same(mine, registry.Get("Mine"));
        Assert.Throws<ArgumentException>(() => registry.Register(new FakeCodec(3, "reserved")));
        Assert.Throws<ArgumentException>(() => registry.Register(new FakeCodec(200, "other")));
        Assert.Throws<ArgumentException>(() => registry.Register(new FakeCodec(201, "MINE")));
        Assert.Throws<ArgumentException>(() => registry.Register(new FakeCodec(202, " ")));
        Assert.False(new SeriesCodecRegistry().TryGet(200, out _)); // registries are independent
    }
}
