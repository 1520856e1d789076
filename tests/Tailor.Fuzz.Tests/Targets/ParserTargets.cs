using System.Text;
using Tailor.Compaction;
using Tailor.Compaction.Writing;
using Tailor.Fuzz.Tests.Harness;
using Tailor.Storage;

namespace Tailor.Fuzz.Tests.Targets;

/// <summary>
/// A target whose input is a .NET string: stored as UTF-16LE bytes so every string (lone surrogates,
/// NUL) round-trips through a regression file exactly.
/// </summary>
public abstract class TextTarget : FuzzTarget
{
    protected abstract IReadOnlyList<string> Seeds { get; }

    protected abstract IReadOnlyList<string> Tokens { get; }

    /// <summary>Property names for JSON tree mutations; empty when the input is not JSON.</summary>
    protected virtual IReadOnlyList<string> JsonNames => [];

    public static byte[] Encode(string text) => Encoding.Unicode.GetBytes(text);

    public static string Decode(byte[] bytes) => new(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(bytes.AsSpan(0, bytes.Length & ~1)));

    public override FuzzInput Generate(FuzzRandom random)
    {
        var seed = random.Pick(Seeds);
        var roll = random.Next(100);
        if (roll < 5)
        {
            return new FuzzInput(Encode(seed), "valid", Pristine: true);
        }

        var log = new List<string>();
        string text;
        if (roll < 45 && JsonNames.Count > 0)
        {
            text = TextMutator.MutateJson(random, seed, JsonNames, log);
            if (random.NextBool())
            {
                text = TextMutator.Mutate(random, text, Tokens, null, log, maxMutations: 2);
            }
        }
        else if (roll < 92)
        {
            text = TextMutator.Mutate(random, seed, Tokens, random.Pick(Seeds), log);
        }
        else
        {
            var builder = new StringBuilder();
            for (var i = random.Next(1, 12); i > 0; i--)
            {
                builder.Append(random.Pick(Tokens));
            }

            text = builder.ToString();
            log.Add("token soup");
        }

        return new FuzzInput(Encode(text), string.Join(", ", log));
    }

    /// <summary>Bytes a parse of <paramref name="length"/> characters may allocate: strings, parsed values, the exception.</summary>
    protected static long TextBound(int length) => (64L * length) + (256 * 1024);
}

/// <summary>
/// <see cref="ShardMap.Parse"/>. Contract: throws only <see cref="FormatException"/>; a parsed map routes
/// every org (dedicated orgs to their own shard, others by modulo) and round-trips through its JSON;
/// parsing allocates in proportion to the text and to the map it returns.
/// </summary>
public sealed class ShardMapTarget : TextTarget
{
    public override string Name => "shard-map";

    public override int DefaultCases => 7_000;

    protected override IReadOnlyList<string> Seeds { get; } =
    [
        """{"sharedShards": 64, "dedicated": [1234, 5678]}""",
        """{"sharedShards": 1}""",
        """{"dedicated": []}""",
        "{}",
        """{ "dedicated": [0, 4294967295, 7, 7], "sharedShards": 4096, }""",
        "{\n  // the big customers\n  \"sharedShards\": 256,\n  \"dedicated\": [42, /* moved */ 43,],\n}",
        """{"sharedShards": 1024, "dedicated": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]}""",
    ];

    protected override IReadOnlyList<string> Tokens { get; } =
    [
        "{", "}", "[", "]", ",", ":", "\"", "\"sharedShards\"", "\"dedicated\"", "null", "true", "false", "-1", "0", "1048576", "1048577",
        "4294967296", "1e2", "64.0", "//", "/*", "*/", "\\u0000", "\"\\ud800\"", "[[[[[[[[[", "]]]]]]]]]", " ", "\ufeff",
    ];

    protected override IReadOnlyList<string> JsonNames { get; } = ["sharedShards", "dedicated", "SharedShards", "shards"];

    public override void Run(FuzzInput input)
    {
        var text = Decode(input.Bytes);
        var before = Contract.AllocatedSoFar();
        ShardMap? map = null;
        try
        {
            map = ShardMap.Parse(text);
        }
        catch (FormatException)
        {
        }

        // The map names every shared shard up front (so routing allocates nothing): its size is the limit's, checked by Parse.
        var bound = TextBound(text.Length) + (map is null ? 0 : (160L * map.SharedShards) + (256L * map.DedicatedOrgs.Count));
        Contract.Allocated("ShardMap.Parse", before, bound);
        Contract.That(!input.Pristine || map is not null, "valid shard map rejected");
        if (map is null)
        {
            Count("rejected");
            return;
        }

        Contract.That(map.SharedShards is >= 1 and <= ShardMap.MaxSharedShards, "shared shards out of range", $"{map.SharedShards}");
        var random = new FuzzRandom((ulong)text.Length);
        foreach (var org in map.DedicatedOrgs.Take(8).Concat([random.NextUInt32(), 0u, uint.MaxValue]))
        {
            var shard = map.Route(org);
            var dedicated = map.DedicatedOrgs.Contains(org);
            Contract.That(dedicated ? shard.IsDedicated && shard.Number == org : !shard.IsDedicated && shard.Number == org % (uint)map.SharedShards,
                "an org is routed to the wrong shard", $"{org} -> {shard.Value}");
            Contract.That(ShardName.TryParse(shard.Value, out var parsed) && parsed == shard, "a shard name does not parse back", shard.Value);
        }

        var again = ShardMap.Parse(map.ToJson());
        Contract.That(again.SharedShards == map.SharedShards && again.DedicatedOrgs.SequenceEqual(map.DedicatedOrgs), "the map does not round-trip through its JSON");
        Count("parsed");
    }
}

/// <summary>
/// <see cref="StoreUri.TryParse"/> and <see cref="StoreUri.Parse"/>. Contract: TryParse never throws and
/// gives an error exactly when it fails; Parse throws only <see cref="FormatException"/>, exactly then; a
/// parsed URI prints (<see cref="StoreUri.ToString"/>) as text that parses back to the same store (same
/// folder, or same bucket, prefix and parameters, the endpoint compared as printed), and printing is stable.
/// </summary>
public sealed class StoreUriTarget : TextTarget
{
    public override string Name => "store-uri";

    public override int DefaultCases => 7_000;

    protected override IReadOnlyList<string> Seeds { get; } =
    [
        "file:///tmp/tailor-data", "file:///", "file://localhost/var/lib/tailor", "file:///data/with%20space/x", "s3://bucket", "s3://my-bucket/prefix/sub",
        "s3://bucket/p?endpoint=http://127.0.0.1:9000", "s3://b.c-d/p?region=eu-west-1&conditional-create=false",
        "s3://bucket/prefix?endpoint=https://minio.local:9000/&region=us-east-1&conditional-create=true", "s3://bucket/a%2Fb/c",
    ];

    protected override IReadOnlyList<string> Tokens { get; } =
    [
        "file://", "s3://", "://", "/", "//", "?", "&", "=", "#", "@", "%", "%2F", "%3F", "%26", "%3D", "%23", "%40", "%25", "%00", "%zz", "%C3%A9", "..", ".",
        "\\", "endpoint=", "region=", "conditional-create=", "http://", "https://", "ftp://", "[::1]", ":99999", ":0", "localhost", "user:pw@", "true", "True",
        " ", "\u00e9", "\ud800", "\0", "C:\\", "~", "s3", "S3", "FILE", "xn--",
    ];

    public override void Run(FuzzInput input)
    {
        var text = Decode(input.Bytes);
        var before = Contract.AllocatedSoFar();
        var ok = StoreUri.TryParse(text, out var uri, out var error);
        Contract.Allocated("StoreUri.TryParse", before, TextBound(text.Length));
        Contract.That(ok == (uri is not null) && ok == (error is null), "TryParse's result and error disagree");
        Contract.That(!input.Pristine || ok, "valid store URI rejected", $"{error}");
        StoreUri? parsed = null;
        try
        {
            parsed = StoreUri.Parse(text);
        }
        catch (FormatException)
        {
        }

        Contract.That(ok == (parsed is not null) && (!ok || parsed == uri), "Parse disagrees with TryParse");
        if (!ok)
        {
            Count("rejected");
            return;
        }

        var printed = uri!.ToString();
        Contract.That(StoreUri.TryParse(printed, out var again, out var problem), "a parsed store URI prints as text that does not parse", $"'{printed}': {problem}");
        // The same store: every member equal, the endpoint as printed (ToString drops its query and trailing slashes by design).
        Contract.That(again!.Kind == uri.Kind && again.LocalPath == uri.LocalPath && again.Bucket == uri.Bucket && again.Prefix == uri.Prefix
            && again.Region == uri.Region && again.ConditionalCreate == uri.ConditionalCreate && Printed(again.Endpoint) == Printed(uri.Endpoint),
            "a parsed store URI prints as another store", $"'{text}' -> '{printed}'");
        Contract.That(again.ToString() == printed, "a store URI's printed form is not stable", $"'{printed}' -> '{again}'");
        Count(uri.Kind == StoreKind.Local ? "parsed file" : "parsed s3");
    }

    private static string? Printed(Uri? endpoint) => endpoint?.GetLeftPart(UriPartial.Path).TrimEnd('/');
}

/// <summary>
/// <see cref="CompactionWindow.TryParse"/> and <see cref="CompactionWindow.Parse"/>. Contract: TryParse never
/// throws; Parse throws only <see cref="FormatException"/>, exactly when TryParse fails; a parsed window's
/// members (end, seconds, text) work, and its text parses back to the same window.
/// </summary>
public sealed class CompactionWindowTarget : TextTarget
{
    public override string Name => "compaction-window";

    public override int DefaultCases => 7_000;

    protected override IReadOnlyList<string> Seeds { get; } =
    [
        "2026-11-26T00:00Z/4h", "2026-11-26T00:00Z", "2026-11-26T04:00:00Z/4h", "2026-11-26T00:00+00:00/1d", "1970-01-01T00:00Z/1m",
        "9999-12-30T00:00Z/1d", "0001-01-01T00:00Z/1m", "2026-11-26T00:30Z/30m", "1970-01-01T00:00Z/366d", "2026-01-01T00:00Z/24h",
    ];

    protected override IReadOnlyList<string> Tokens { get; } =
    [
        "Z", "+00:00", "-00:00", "+05:30", "/", "h", "m", "d", "s", "T", " ", ":", ".", "-", "0h", "-4h", "1e3h", "\u0664h", "4H", "10675199d", "10675200d",
        "2147483647h", "256204778h", "256204779h", "2147483647m", "2147483647d", "366d", "367d", ":59", ".9999999", "9999-12-31T20:00Z", "0001-01-01T00:00Z",
        "24:00", "\0", "//", "4 h",
    ];

    public override void Run(FuzzInput input)
    {
        var text = Decode(input.Bytes);
        var before = Contract.AllocatedSoFar();
        var ok = CompactionWindow.TryParse(text, out var window, out var problem);
        Contract.Allocated("CompactionWindow.TryParse", before, TextBound(text.Length));
        Contract.That(ok == (problem is null), "TryParse's result and problem disagree");
        Contract.That(!input.Pristine || ok, "valid window rejected", $"{problem}");
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        _ = CompactionWindow.TryParseLength(slash < 0 ? text : text[(slash + 1)..], out _);
        CompactionWindow? parsed = null;
        try
        {
            parsed = CompactionWindow.Parse(text);
        }
        catch (FormatException)
        {
        }

        Contract.That(ok == parsed.HasValue && (!ok || parsed == window), "Parse disagrees with TryParse");
        if (!ok)
        {
            Count("rejected");
            return;
        }

        Contract.That(window.Length > TimeSpan.Zero && window.Contains(window.StartSeconds) && !window.Contains(window.EndSeconds)
            && window.End > window.Start, "a parsed window's members disagree");
        var printed = window.ToString();
        Contract.That(CompactionWindow.TryParse(printed, out var again, out var reason) && again == window, "a parsed window prints as text that does not parse back",
            $"'{text}' -> '{printed}': {reason}");
        Count("parsed");
    }
}

/// <summary>
/// <see cref="CompactionManifest.Parse"/> over UTF-8 bytes. Contract: throws only <see cref="FormatException"/>;
/// a parsed manifest has every member its type promises (no null where the type says never null) and
/// round-trips through its JSON to the same bytes.
/// </summary>
public sealed class ManifestTarget : TextTarget
{
    private static readonly Lazy<IReadOnlyList<string>> Built = new(BuildSeeds);

    public override string Name => "manifest";

    public override int DefaultCases => 7_000;

    protected override IReadOnlyList<string> Seeds => Built.Value;

    protected override IReadOnlyList<string> Tokens { get; } =
    [
        "{", "}", "[", "]", ",", ":", "\"", "null", "true", "-1", "1e400", "\"tailor-manifest\"", "\"version\"", "\"inputs\"", "\"outputs\"", "\"stats\"",
        "\"created_at\"", "\"2026-11-26T00:00:00Z\"", "\"9999-12-31T23:59:59+14:00\"", "\"\\u0000\"", "\"\\ud800\"", "\"key\"", "\"size\"", "\\", "\ufeff",
    ];

    protected override IReadOnlyList<string> JsonNames { get; } =
    [
        "format", "version", "shard", "window", "generation", "codec", "inputs", "outputs", "stats", "created_at", "key", "size", "e_tag", "etag",
        "series", "points", "first_series", "last_series", "sha256", "points_in", "points_out", "Shard",
    ];

    /// <summary>Manifest text is UTF-8 (the product parses bytes); mutations happen on the string, then the bytes may be mutated too.</summary>
    public override FuzzInput Generate(FuzzRandom random)
    {
        var text = base.Generate(random);
        var utf8 = Encoding.UTF8.GetBytes(Decode(text.Bytes));
        if (!text.Pristine && random.OneIn(6))
        {
            var log = new List<string>();
            utf8 = ByteMutator.Mutate(random, new SeedInput(utf8), [], null, log, maxMutations: 2);
            return new FuzzInput(utf8, text.How + ", bytes: " + string.Join(", ", log));
        }

        return text with { Bytes = utf8 };
    }

    public override void Run(FuzzInput input)
    {
        var before = Contract.AllocatedSoFar();
        CompactionManifest? manifest = null;
        try
        {
            manifest = CompactionManifest.Parse(input.Bytes);
        }
        catch (FormatException)
        {
        }

        Contract.Allocated("CompactionManifest.Parse", before, TextBound(input.Bytes.Length));
        Contract.That(!input.Pristine || manifest is not null, "valid manifest rejected");
        if (manifest is null)
        {
            Count("rejected");
            return;
        }

        Contract.That(manifest.Shard is not null && manifest.Window is not null && manifest.Generation is not null && manifest.Codec is not null
            && manifest.Format is not null && manifest.Stats is not null, "a parsed manifest has a null member its type promises", Describe(input.Bytes));
        Contract.That(manifest.Inputs is not null && manifest.Inputs.All(i => i is not null && i.Key is not null), "a parsed manifest has a null input or input key",
            Describe(input.Bytes));
        Contract.That(manifest.Outputs is not null && manifest.Outputs.All(o => o is not null && o.Key is not null && o.FirstSeries is not null && o.LastSeries is not null && o.Sha256 is not null),
            "a parsed manifest has a null output or output member", Describe(input.Bytes));
        var json = manifest.ToJson();
        Contract.That(json.AsSpan().SequenceEqual(CompactionManifest.Parse(json).ToJson()), "the manifest does not round-trip through its JSON");
        Count("parsed");
    }

    private static string Describe(byte[] bytes) => Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, 300)));

    private static List<string> BuildSeeds()
    {
        var random = new FuzzRandom(0x3A41F);
        var seeds = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var inputs = Enumerable.Range(0, random.Next(0, 5))
                .Select(k => new SegmentInput($"segments/org-mod-{i}/2026-11-26T00/{k:x2}/{random.NextUInt64():x16}-{k}.tseg", random.Next(1, 1 << 30), k % 2 == 0 ? null : $"\"{random.NextUInt64():x16}\""))
                .ToArray();
            var outputs = Enumerable.Range(0, random.Next(0, 4))
                .Select(k => new PartInfo($"series/org-mod-{i}/1795651200/{k:d4}.tsf", random.Next(1, 1 << 30), random.Next(1, 1000), random.Next(1, 100_000),
                    $"{i}:{k}:0", $"{i}:{k}:{random.NextUInt64()}", Convert.ToHexStringLower(random.NextBytes(32))))
                .ToArray();
            var manifest = new CompactionManifest
            {
                Shard = i % 3 == 0 ? $"org-{random.NextUInt32()}" : $"org-mod-{i}",
                Window = "2026-11-26T00:00Z/4h",
                Generation = $"{random.NextUInt32():x8}",
                Codec = i % 2 == 0 ? "tailor" : "gorilla",
                Inputs = inputs,
                Outputs = outputs,
                Stats = new ManifestStats { PointsIn = random.Next(1 << 30), PointsOut = random.Next(1 << 30), Duplicates = random.Next(1000), Series = random.Next(100_000) },
                CreatedAt = DateTimeOffset.FromUnixTimeSeconds(1_795_651_200 + random.Next(100_000)),
            };
            seeds.Add(Encoding.UTF8.GetString(manifest.ToJson()));
        }

        return seeds;
    }
}
