using System.Diagnostics.CodeAnalysis;

namespace Tailor.Format.Codecs;

/// <summary>
/// Resolves series codecs by id (when reading an S-file) and by name (in options and on the command
/// line). A new registry holds the built-in codecs; users add their own with <see cref="Register"/>.
/// </summary>
/// <remarks>Thread-safe: lookups are lock-free over an immutable snapshot; registration takes a lock.</remarks>
public sealed class SeriesCodecRegistry
{
    private readonly Lock _gate = new();
    private ISeriesCodec?[] _byId = new ISeriesCodec?[256];

    /// <summary>A registry holding the built-in codecs (<c>gorilla</c>, <c>tailor</c>, <c>tailor2</c>, <c>tailor3</c>).</summary>
    public SeriesCodecRegistry()
    {
        _byId[SeriesCodecs.Gorilla.Id] = SeriesCodecs.Gorilla;
        _byId[SeriesCodecs.Tailor.Id] = SeriesCodecs.Tailor;
        _byId[SeriesCodecs.Tailor2.Id] = SeriesCodecs.Tailor2;
        _byId[SeriesCodecs.Tailor3.Id] = SeriesCodecs.Tailor3;
    }

    /// <summary>A shared registry with the built-in codecs. Register user codecs in a registry of your own
    /// when libraries should not see them.</summary>
    public static SeriesCodecRegistry Shared { get; } = new();

    /// <summary>The registered codecs in id order.</summary>
    public IReadOnlyList<ISeriesCodec> Codecs
    {
        get
        {
            var list = new List<ISeriesCodec>();
            foreach (var codec in Volatile.Read(ref _byId))
            {
                if (codec is not null)
                {
                    list.Add(codec);
                }
            }

            return list;
        }
    }

    /// <summary>Adds a user codec.</summary>
    /// <param name="codec">The codec; its id must be at least <see cref="SeriesCodecs.FirstUserCodecId"/> and its
    /// id and name (compared case-insensitively) unused in this registry.</param>
    /// <exception cref="ArgumentException">The id is reserved or taken, or the name is empty or taken.</exception>
    public void Register(ISeriesCodec codec)
    {
        ArgumentNullException.ThrowIfNull(codec);
        if (codec.Id < SeriesCodecs.FirstUserCodecId)
        {
            throw new ArgumentException($"Codec ids below {SeriesCodecs.FirstUserCodecId} are reserved for built-in codecs; '{codec.Name}' has id {codec.Id}.", nameof(codec));
        }

        if (string.IsNullOrWhiteSpace(codec.Name))
        {
            throw new ArgumentException("A codec needs a name.", nameof(codec));
        }

        lock (_gate)
        {
            var current = _byId;
            if (current[codec.Id] is { } taken)
            {
                throw new ArgumentException($"Codec id {codec.Id} is already registered to '{taken.Name}'.", nameof(codec));
            }

            if (TryFindName(current, codec.Name, out var sameName))
            {
                throw new ArgumentException($"Codec name '{codec.Name}' is already registered with id {sameName.Id}.", nameof(codec));
            }

            var next = (ISeriesCodec?[])current.Clone();
            next[codec.Id] = codec;
            Volatile.Write(ref _byId, next);
        }
    }

    /// <summary>Finds the codec with <paramref name="id"/>.</summary>
    /// <param name="id">A codec id from an S-file header.</param>
    /// <param name="codec">The codec, when found.</param>
    /// <returns>Whether it was found.</returns>
    public bool TryGet(byte id, [NotNullWhen(true)] out ISeriesCodec? codec)
    {
        codec = Volatile.Read(ref _byId)[id];
        return codec is not null;
    }

    /// <summary>Finds the codec named <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">A codec name such as <c>"gorilla"</c>.</param>
    /// <param name="codec">The codec, when found.</param>
    /// <returns>Whether it was found.</returns>
    public bool TryGet(string name, [NotNullWhen(true)] out ISeriesCodec? codec)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryFindName(Volatile.Read(ref _byId), name, out codec);
    }

    /// <summary>Returns the codec with <paramref name="id"/>.</summary>
    /// <param name="id">A codec id.</param>
    /// <returns>The codec.</returns>
    /// <exception cref="KeyNotFoundException">No codec has that id.</exception>
    public ISeriesCodec Get(byte id) =>
        TryGet(id, out var codec) ? codec : throw new KeyNotFoundException($"No series codec has id {id}.");

    /// <summary>Returns the codec named <paramref name="name"/>.</summary>
    /// <param name="name">A codec name.</param>
    /// <returns>The codec.</returns>
    /// <exception cref="KeyNotFoundException">No codec has that name.</exception>
    public ISeriesCodec Get(string name) =>
        TryGet(name, out var codec) ? codec : throw new KeyNotFoundException($"No series codec is named '{name}'.");

    private static bool TryFindName(ISeriesCodec?[] byId, string name, [NotNullWhen(true)] out ISeriesCodec? codec)
    {
        foreach (var candidate in byId)
        {
            if (candidate is not null && string.Equals(candidate.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                codec = candidate;
                return true;
            }
        }

        codec = null;
        return false;
    }
}
