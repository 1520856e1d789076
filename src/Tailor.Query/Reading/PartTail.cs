using Tailor.Format.Codecs;
using Tailor.Format.Series;

namespace Tailor.Query.Reading;

/// <summary>What the end of one S-file part says (trailer and footer) and its codec: cached per part, immutable.</summary>
internal sealed class PartTail(SFileLayout layout, ISeriesCodec codec)
{
    public SFileLayout Layout { get; } = layout;

    public ISeriesCodec Codec { get; } = codec;

    public long SizeInBytes => Layout.Trailer.FooterLength + (Layout.Footer.PageCount * 48L) + 256;
}
