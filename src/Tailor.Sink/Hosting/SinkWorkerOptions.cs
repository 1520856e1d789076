using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;
using Tailor.Sink.Kafka;
using Tailor.Storage;

namespace Tailor.Sink.Hosting;

/// <summary>
/// Everything one sink worker needs: where segments go, how orgs map to shards, the engine's
/// rotation and budget, and the Kafka source. Bound from a configuration section by
/// <see cref="SinkServiceCollectionExtensions.AddTailorSink(Microsoft.Extensions.DependencyInjection.IServiceCollection, IConfiguration)"/>
/// and by <c>tailor sink --config</c>, in this shape:
/// <code>
/// {
///   "Store": "s3://bucket/prefix?endpoint=http://127.0.0.1:9000",
///   "ShardMap": { "SharedShards": 64, "Dedicated": [ 1234 ] },      // or "ShardMap": "shards.json"
///   "Engine": { "MaxSegmentAge": "00:10:00", "MaxSegmentPayloads": 100000, "BufferBudgetBytes": 268435456 },
///   "Kafka": {
///     "BootstrapServers": "broker1:9092,broker2:9092",
///     "Topics": [ "metrics-a", "metrics-b" ],                         // or "metrics-a,metrics-b"
///     "GroupId": "tailor-sink",
///     "Settings": { "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN" }
///   }
/// }
/// </code>
/// </summary>
public sealed class SinkWorkerOptions
{
    /// <summary>The store URI: <c>file:///path</c> or <c>s3://bucket/prefix[?endpoint=URL]</c>. Required unless an <see cref="IObjectStore"/> is registered.</summary>
    public string? Store { get; set; }

    /// <summary>How orgs map to shards. Default: 64 shared shards, no dedicated orgs.</summary>
    public ShardMapOptions ShardMap { get; set; } = new();

    /// <summary>
    /// The engine's options: rotation (<see cref="SinkOptions.MaxSegmentAge"/>,
    /// <see cref="SinkOptions.MaxSegmentPayloads"/>, <see cref="SinkOptions.MaxSegmentBytes"/>), the
    /// buffer budget, deadlines, payload limits. Its <see cref="SinkOptions.ShardMap"/> is replaced by
    /// <see cref="ShardMap"/>. Default: the defaults of <see cref="SinkOptions"/>.
    /// </summary>
    public SinkOptions Engine { get; set; } = new();

    /// <summary>The Kafka source: brokers, topics, group, replay, passed-through librdkafka settings. Required unless an <see cref="IPayloadSource"/> is registered.</summary>
    public KafkaPayloadSourceOptions Kafka { get; set; } = new();

    /// <summary>
    /// Binds a configuration section in the shape above. Beyond the usual binding, <c>Kafka:Topics</c>
    /// may be one comma-separated string (handy in an environment variable) and <c>ShardMap</c> may be
    /// the path of a shard-map JSON file (relative paths are taken from <paramref name="baseDirectory"/>).
    /// </summary>
    /// <param name="section">The section; the root of a <c>tailor sink</c> config file, or e.g. <c>Tailor:Sink</c> in a host.</param>
    /// <param name="baseDirectory">Where relative file paths start. Default: the current directory.</param>
    /// <returns>The bound options.</returns>
    /// <exception cref="InvalidOperationException">A value could not be converted, or a key names no option (the message says which).</exception>
    public static SinkWorkerOptions Bind(IConfiguration section, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        var options = new SinkWorkerOptions();
        BindInto(section, options, baseDirectory);
        return options;
    }

    /// <summary>Binds a configuration section into existing options (see <see cref="Bind"/>).</summary>
    /// <param name="section">The section.</param>
    /// <param name="options">The options to fill.</param>
    /// <param name="baseDirectory">Where relative file paths start. Default: the current directory.</param>
    public static void BindInto(IConfiguration section, SinkWorkerOptions options, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "STORE":
                    options.Store = child.Value;
                    break;
                case "SHARDMAP" when child.Value is { Length: > 0 } file:
                    options.ShardMap.File = Path.GetFullPath(file, baseDirectory ?? Directory.GetCurrentDirectory());
                    break;
                case "SHARDMAP":
                    BindStrict(child, options.ShardMap);
                    if (options.ShardMap.File is { } relative)
                    {
                        options.ShardMap.File = Path.GetFullPath(relative, baseDirectory ?? Directory.GetCurrentDirectory());
                    }

                    break;
                case "ENGINE":
                    BindStrict(child, options.Engine);
                    break;
                case "KAFKA" when child.GetSection("Topics").Value is { } topics:
                    // One comma-separated string (handy in an environment variable): the binder cannot
                    // turn it into a list, so it binds the rest and the topics are split here.
                    BindStrict(new WithoutKey(child, "Topics"), options.Kafka, child.Path);
                    options.Kafka.Topics = [.. topics.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                    break;
                case "KAFKA":
                    BindStrict(child, options.Kafka);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown sink setting '{child.Path}': expected Store, ShardMap, Engine or Kafka.");
            }
        }
    }

    /// <summary>Binds a section, refusing keys that name no option, and says which section a failure is in.</summary>
    private static void BindStrict(IConfiguration section, object target, string? path = null)
    {
        try
        {
            section.Bind(target, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            var where = path ?? (section as IConfigurationSection)?.Path;
            throw new InvalidOperationException(Describe(e, where, target.GetType()), e);
        }
    }

    /// <summary>The binder's failure in the words of the config file: the key as written and what it takes.</summary>
    private static string Describe(InvalidOperationException e, string? section, Type target)
    {
        var prefix = string.IsNullOrEmpty(section) ? string.Empty : section + ConfigurationPath.KeyDelimiter;
        var message = e.Message;
        var unknown = message.IndexOf("were not found on the instance of", StringComparison.Ordinal);
        if (unknown >= 0 && message.IndexOf(": ", unknown, StringComparison.Ordinal) is var colon and > 0)
        {
            var names = message[(colon + 2)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(n => $"'{prefix}{n.Trim('\'')}'");
            var known = target.GetProperties().Where(p => p.CanWrite || p.PropertyType.IsGenericType).Select(p => p.Name).Order(StringComparer.Ordinal);
            return $"Unknown sink setting {string.Join(", ", names)}: the keys of {(section ?? "this section")} are {string.Join(", ", known)}.";
        }

        // "Failed to convert configuration value 'lots' at 'Engine:BufferBudgetBytes' to type 'System.Int64'."
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            var text = inner.Message;
            var at = text.IndexOf("' at '", StringComparison.Ordinal);
            var to = text.IndexOf("' to type '", StringComparison.Ordinal);
            if (text.StartsWith("Failed to convert configuration value '", StringComparison.Ordinal) && at > 0 && to > at)
            {
                var value = text["Failed to convert configuration value '".Length..at];
                var key = text[(at + "' at '".Length)..to];
                var type = text[(to + "' to type '".Length)..].TrimEnd('.', '\'');
                var expected = type switch
                {
                    "System.Int32" or "System.Int64" or "System.Nullable`1[System.Int32]" or "System.Nullable`1[System.Int64]" => "a whole number",
                    "System.UInt32" or "System.UInt64" or "System.Nullable`1[System.UInt32]" => "a whole number of 0 or more",
                    "System.Double" or "System.Nullable`1[System.Double]" => "a number",
                    "System.Boolean" or "System.Nullable`1[System.Boolean]" => "true or false",
                    "System.TimeSpan" or "System.Nullable`1[System.TimeSpan]" => "a duration written hh:mm:ss, e.g. 00:10:00",
                    _ => "a value of the right kind",
                };
                return $"Sink setting '{key}' is '{value}', which is not {expected}.";
            }
        }

        return $"In sink setting '{section}': {message}";
    }

    /// <summary>A configuration section with one child hidden from the binder.</summary>
    private sealed class WithoutKey(IConfigurationSection inner, string hidden) : IConfiguration
    {
        public string? this[string key]
        {
            get => IsHidden(key) ? null : inner[key];
            set => inner[key] = value;
        }

        public IEnumerable<IConfigurationSection> GetChildren() => inner.GetChildren().Where(c => !IsHidden(c.Key));

        public IChangeToken GetReloadToken() => inner.GetReloadToken();

        public IConfigurationSection GetSection(string key) => IsHidden(key) ? new EmptySection(key, ConfigurationPath.Combine(inner.Path, key)) : inner.GetSection(key);

        private bool IsHidden(string key) => string.Equals(key, hidden, StringComparison.OrdinalIgnoreCase);
    }

    private sealed class EmptySection(string key, string path) : IConfigurationSection
    {
        public string Key => key;

        public string Path => path;

        public string? Value
        {
            get => null;
            set => throw new NotSupportedException();
        }

        public string? this[string name]
        {
            get => null;
            set => throw new NotSupportedException();
        }

        public IEnumerable<IConfigurationSection> GetChildren() => [];

        public IChangeToken GetReloadToken() => new CancellationChangeToken(CancellationToken.None);

        public IConfigurationSection GetSection(string name) => new EmptySection(name, ConfigurationPath.Combine(path, name));
    }

    /// <summary>
    /// Checks every part and throws an <see cref="ArgumentException"/> or <see cref="FormatException"/>
    /// naming the first bad one; sets <see cref="Engine"/>'s shard map from <see cref="ShardMap"/>.
    /// </summary>
    /// <param name="needStore">Whether <see cref="Store"/> must be set (no store registered).</param>
    /// <param name="needKafka">Whether <see cref="Kafka"/> must be complete (no source registered).</param>
    public void Validate(bool needStore = true, bool needKafka = true)
    {
        if (needStore)
        {
            if (string.IsNullOrWhiteSpace(Store))
            {
                throw new ArgumentException("Store is required: file:///path or s3://bucket/prefix.");
            }

            StoreUri.Parse(Store);
        }

        Engine.ShardMap = ShardMap.ToShardMap();
        Engine.Validate();
        if (needKafka)
        {
            Kafka.Validate();
        }
    }
}

/// <summary>The shard map of a sink worker: inline, or the path of a shard-map JSON file.</summary>
public sealed class ShardMapOptions
{
    /// <summary>The number of shared shards (<c>org-mod-K</c>). Default 64.</summary>
    public int? SharedShards { get; set; }

    /// <summary>Orgs with a shard of their own (<c>org-&lt;id&gt;</c>). Default none.</summary>
    public IList<uint> Dedicated { get; set; } = [];

    /// <summary>
    /// A shard-map JSON file (<c>{"sharedShards": 64, "dedicated": [1234]}</c>); when set,
    /// <see cref="SharedShards"/> and <see cref="Dedicated"/> must not be. Default none.
    /// </summary>
    public string? File { get; set; }

    /// <summary>The map these options describe.</summary>
    /// <exception cref="FormatException">The file is not a valid shard map, or both a file and inline values are given.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public ShardMap ToShardMap()
    {
        if (File is null)
        {
            return new ShardMap(SharedShards ?? Storage.ShardMap.DefaultSharedShards, Dedicated);
        }

        if (SharedShards is not null || Dedicated.Count > 0)
        {
            throw new FormatException("Give the shard map either as a file or inline (SharedShards, Dedicated), not both.");
        }

        if (!System.IO.File.Exists(File))
        {
            throw new FileNotFoundException($"The shard map file {File} does not exist.", File);
        }

        try
        {
            return Storage.ShardMap.Parse(System.IO.File.ReadAllText(File));
        }
        catch (FormatException e)
        {
            throw new FormatException($"{File}: {e.Message}", e);
        }
    }
}
