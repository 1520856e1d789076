using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Tailor.Compaction;
using Tailor.Format.Codecs;
using Tailor.Sink;
using Tailor.Sink.Hosting;
using Tailor.Sink.Kafka;
using Tailor.Storage;

namespace Tailor.Packaging.Tests;

/// <summary>
/// Builds the option tables of <c>docs/configuration.md</c>: one row per settable property of each
/// options class, with its configuration type, the default a new instance holds, and the meaning its
/// XML documentation (the built <c>Tailor.*.xml</c> files) gives. Between the markers
/// <c>&lt;!-- options: Full.Type.Name --&gt;</c> and <c>&lt;!-- end options --&gt;</c> the document holds
/// exactly what this produces; <c>scripts/update-config-docs.sh</c> rewrites it, the tests compare.
/// </summary>
internal static partial class OptionTables
{
    /// <summary>The options classes the document describes, in its order.</summary>
    public static readonly Type[] Documented =
    [
        typeof(SinkWorkerOptions), typeof(ShardMapOptions), typeof(SinkOptions), typeof(KafkaPayloadSourceOptions),
        typeof(CompactionWorkerOptions), typeof(CompactionOptions), typeof(CompactionJobPublisherOptions),
        typeof(ObjectStoreOptions), typeof(LocalObjectStoreOptions), typeof(S3ObjectStoreOptions), typeof(RetryOptions), typeof(MultipartOptions),
    ];

    /// <summary>Options classes of the sink, compaction and storage packages that are not deployment settings.</summary>
    public static readonly Type[] LeftOut =
    [
        typeof(EmbeddedKafkaClusterOptions), // the in-process cluster of the demo and the tests
        typeof(FaultInjectionOptions), // failures injected on purpose, for game days
    ];

    /// <summary>Defaults that depend on the machine, described instead of printed.</summary>
    public static readonly IReadOnlyDictionary<string, string> DescribedDefaults = new Dictionary<string, string>
    {
        ["CompactionOptions.Parallelism"] = "the number of cores",
        ["CompactionOptions.WorkDirectory"] = "`tailor-compaction` in the system temp folder",
        ["ShardMapOptions.SharedShards"] = "`null`, read as `64`",
    };

    private const string EndMarker = "<!-- end options -->";

    /// <summary>The anchor of a documented type's section: its name in lower case.</summary>
    public static string Anchor(Type type) => type.Name.ToLowerInvariant();

    /// <summary>Rewrites every marked table of <paramref name="document"/>.</summary>
    /// <param name="document">The document's text.</param>
    /// <param name="unmarked">Documented types the document has no marker for.</param>
    /// <returns>The document with every table regenerated.</returns>
    public static string Update(string document, out IReadOnlyList<Type> unmarked)
    {
        var docs = XmlDocs.Load();
        var seen = new HashSet<Type>();
        var result = Marker().Replace(document, match =>
        {
            var name = match.Groups["type"].Value;
            var type = Documented.SingleOrDefault(t => t.FullName == name)
                ?? throw new InvalidOperationException($"docs/configuration.md marks a table for {name}, which is not an options class the tables know.");
            seen.Add(type);
            return $"<!-- options: {name} -->\n{Table(type, docs)}{EndMarker}";
        });
        unmarked = [.. Documented.Where(t => !seen.Contains(t))];
        return result;
    }

    /// <summary>The option names the document's table of <paramref name="type"/> lists (none when it has no table).</summary>
    public static IEnumerable<string> DocumentedNames(string document, Type type)
    {
        var table = Marker().Matches(document).FirstOrDefault(m => m.Groups["type"].Value == type.FullName);
        return table is null ? [] : OptionRow().Matches(table.Value).Select(m => m.Groups["name"].Value);
    }

    /// <summary>The markdown table of one options class.</summary>
    public static string Table(Type type, XmlDocs docs)
    {
        var instance = Activator.CreateInstance(type)!;
        var table = new StringBuilder("| option | type | default | meaning |\n| --- | --- | --- | --- |\n");
        foreach (var property in Settable(type))
        {
            var meaning = docs.Summary($"P:{type.FullName}.{property.Name}")
                ?? throw new InvalidOperationException($"{type.Name}.{property.Name} has no XML summary.");
            table.Append(CultureInfo.InvariantCulture,
                $"| `{property.Name}` | {TypeName(property.PropertyType)} | {Default(type, property, instance)} | {meaning} |\n");
        }

        return table.ToString();
    }

    /// <summary>The properties configuration can set: public, instance, readable and writable, in declaration order.</summary>
    public static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.CanWrite && p.SetMethod!.IsPublic)
            .OrderBy(p => p.MetadataToken);

    private static string TypeName(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner)
        {
            return TypeName(inner) + " or `null`";
        }

        if (Documented.Contains(type))
        {
            return $"object ([`{type.Name}`](#{Anchor(type)}))";
        }

        return type switch
        {
            _ when type == typeof(string) => "string",
            _ when type == typeof(bool) => "boolean",
            _ when type == typeof(int) || type == typeof(long) || type == typeof(uint) || type == typeof(ulong) => "integer",
            _ when type == typeof(double) => "number",
            _ when type == typeof(TimeSpan) => "duration",
            _ when type == typeof(DateTimeOffset) => "date and time",
            _ when type == typeof(Uri) => "URL",
            _ when typeof(IEnumerable<KeyValuePair<string, string>>).IsAssignableFrom(type) => "map of strings",
            _ when typeof(IEnumerable<string>).IsAssignableFrom(type) => "list of strings",
            _ when typeof(IEnumerable<uint>).IsAssignableFrom(type) => "list of integers",
            _ => $"`{FriendlyName(type)}` (code only)",
        };
    }

    private static string Default(Type owner, PropertyInfo property, object instance)
    {
        if (DescribedDefaults.TryGetValue($"{owner.Name}.{property.Name}", out var described))
        {
            return described;
        }

        var value = property.GetValue(instance);
        return value switch
        {
            null => "`null`",
            string text => $"`\"{text}\"`",
            bool flag => flag ? "`true`" : "`false`",
            TimeSpan duration => $"`{Duration(duration)}` ({Human(duration)})",
            int or long or uint or ulong or double => Number(property.Name, Convert.ToDouble(value, CultureInfo.InvariantCulture), value),
            ShardMap map => $"`{map.ToJson()}`",
            ISeriesCodec codec => $"the `{codec.Name}` codec",
            ArrayPool<byte> pool when ReferenceEquals(pool, ArrayPool<byte>.Shared) => "`ArrayPool<byte>.Shared`",
            IDictionary { Count: 0 } => "`{}`",
            ICollection { Count: 0 } => "`[]`",
            _ when Documented.Contains(property.PropertyType) => $"see [`{property.PropertyType.Name}`](#{Anchor(property.PropertyType)})",
            _ => throw new InvalidOperationException($"No way to print the default of {owner.Name}.{property.Name} ({value.GetType().Name}): teach {nameof(OptionTables)}."),
        };
    }

    private static string Number(string name, double number, object value)
    {
        var text = $"`{Convert.ToString(value, CultureInfo.InvariantCulture)}`";
        var bytes = name.EndsWith("Kbytes", StringComparison.Ordinal) ? number * 1024
            : name.EndsWith("Bytes", StringComparison.Ordinal) || name is "PartSize" or "MaxChunkSize" ? number
            : (double?)null;
        return bytes is { } size ? $"{text} ({Size(size)})" : text;
    }

    private static string Size(double bytes)
    {
        foreach (var (unit, scale) in new[] { ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10) })
        {
            if (bytes >= scale && bytes % scale == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{bytes / scale} {unit}");
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes");
    }

    private static string Duration(TimeSpan value)
    {
        var format = value.Ticks % TimeSpan.TicksPerSecond == 0 ? @"hh\:mm\:ss" : @"hh\:mm\:ss\.fff";
        return value.Days > 0
            ? value.ToString(@"d\." + format, CultureInfo.InvariantCulture)
            : value.ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary>A duration in the largest unit that holds it whole: 100 ms, 45 s, 100 s, 5 min, 2 h.</summary>
    private static string Human(TimeSpan value)
    {
        var (amount, unit) = value switch
        {
            _ when value.Ticks % TimeSpan.TicksPerSecond != 0 => (value.TotalMilliseconds, "ms"),
            _ when value < TimeSpan.FromMinutes(1) || value.Ticks % TimeSpan.TicksPerMinute != 0 => (value.TotalSeconds, "s"),
            _ when value < TimeSpan.FromHours(1) || value.Ticks % TimeSpan.TicksPerHour != 0 => (value.TotalMinutes, "min"),
            _ => (value.TotalHours, "h"),
        };
        return string.Create(CultureInfo.InvariantCulture, $"{amount:0} {unit}");
    }

    private static string FriendlyName(Type type) =>
        type.IsGenericType
            ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", type.GetGenericArguments().Select(FriendlyName))}>"
            : type == typeof(byte) ? "byte" : type.Name;

    [GeneratedRegex(@"^\| `(?<name>[A-Za-z0-9_]+)` \|", RegexOptions.Multiline)]
    private static partial Regex OptionRow();

    [GeneratedRegex(@"<!-- options: (?<type>[A-Za-z0-9_.]+) -->\n.*?<!-- end options -->", RegexOptions.Singleline)]
    private static partial Regex Marker();
}

/// <summary>The summaries of the Tailor packages' built XML documentation, as markdown.</summary>
internal sealed class XmlDocs
{
    private readonly Dictionary<string, XElement> _summaries;

    private XmlDocs(Dictionary<string, XElement> summaries) => _summaries = summaries;

    /// <summary>Reads the XML documentation files built next to this test assembly.</summary>
    public static XmlDocs Load()
    {
        var summaries = new Dictionary<string, XElement>(StringComparer.Ordinal);
        foreach (var assembly in new[] { typeof(SinkOptions).Assembly, typeof(CompactionOptions).Assembly, typeof(ObjectStoreOptions).Assembly })
        {
            var path = Path.ChangeExtension(assembly.Location, ".xml");
            if (!File.Exists(path))
            {
                throw new FileNotFoundException("The package's XML documentation was not built next to the tests.", path);
            }

            foreach (var member in XDocument.Load(path).Descendants("member"))
            {
                if (member.Element("summary") is { } summary)
                {
                    summaries[(string)member.Attribute("name")!] = summary;
                }
            }
        }

        return new XmlDocs(summaries);
    }

    /// <summary>A member's summary as one line of markdown (table-safe), or null when it has none.</summary>
    /// <param name="id">The documentation id, e.g. <c>P:Tailor.Sink.SinkOptions.MaxSegmentAge</c>.</param>
    public string? Summary(string id)
    {
        if (!_summaries.TryGetValue(id, out var summary))
        {
            return null;
        }

        var text = new StringBuilder();
        Append(text, summary);
        return string.Join(' ', text.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Replace("|", "\\|", StringComparison.Ordinal);
    }

    private static void Append(StringBuilder text, XElement element)
    {
        foreach (var node in element.Nodes())
        {
            switch (node)
            {
                case XText value:
                    text.Append(value.Value);
                    break;
                case XElement { Name.LocalName: "see" or "seealso" } reference:
                    text.Append(Reference(reference));
                    break;
                case XElement { Name.LocalName: "c" or "paramref" or "typeparamref" } code:
                    text.Append('`').Append(code.Attribute("name")?.Value ?? code.Value).Append('`');
                    break;
                case XElement inner:
                    Append(text.Append(' '), inner);
                    text.Append(' ');
                    break;
            }
        }
    }

    private static string Reference(XElement reference)
    {
        if (reference.Attribute("langword") is { } word)
        {
            return $"`{word.Value}`";
        }

        if (reference.Attribute("href") is { } href)
        {
            return reference.Value.Length > 0 ? $"[{reference.Value}]({href.Value})" : href.Value;
        }

        var cref = (string?)reference.Attribute("cref") ?? string.Empty;
        var kind = cref.Length > 2 && cref[1] == ':' ? cref[0] : 'T';
        var name = cref.Length > 2 && cref[1] == ':' ? cref[2..] : cref;
        var parameters = name.IndexOf('(', StringComparison.Ordinal);
        if (parameters >= 0)
        {
            name = name[..parameters];
        }

        var parts = name.Replace("`1", string.Empty, StringComparison.Ordinal).Split('.');
        if (kind == 'T')
        {
            var type = OptionTables.Documented.FirstOrDefault(t => t.FullName == name);
            return type is null ? $"`{parts[^1]}`" : $"[`{type.Name}`](#{OptionTables.Anchor(type)})";
        }

        return $"`{parts[^2]}.{parts[^1]}`";
    }
}
