using System.CommandLine;
using System.Globalization;
using Tailor.Compaction;
using Tailor.Storage;

namespace Tailor.Cli.Commands;

/// <summary>
/// The options the store and compaction commands share (<c>--store</c>, <c>--window</c>, <c>--memory</c>, …),
/// their parsing into messages that say what to fix, and the mapping of failures to exit codes.
/// </summary>
internal static class CompactionArguments
{
    public const string StoreHelp = "The store: file:///absolute/path, or s3://bucket/prefix?endpoint=http://127.0.0.1:9000 (AWS credentials from the standard chain).";

    public static Option<string> Store() => new("--store") { Description = StoreHelp, Required = true };

    public static Option<string> Window() => new("--window")
    {
        Description = "The window: a UTC start aligned to its length, then the length in m, h or d, e.g. 2026-11-26T00:00Z/4h.",
        Required = true,
    };

    public static Option<string?> Memory() => new("--memory")
    {
        Description = "The memory budget of a job: bytes, or with a unit such as 512MiB or 2GiB (default 1GiB). Past it, sorted runs spill to --work-dir.",
    };

    public static Option<int?> Parallelism() => new("--parallelism") { Description = "Threads per job (default: the number of cores)." };

    public static Option<string?> WorkDirectory() => new("--work-dir")
    {
        Description = "Where spill files and downloaded inputs go (default: tailor-compaction in the system temp folder). Give each worker its own.",
    };

    public static Option<string?> EarlyAllowance() => new("--early-allowance")
    {
        Description = "How long before the window start the segment hours that may hold its points begin (default 1h; e.g. 30m, 6h, 0).",
    };

    public static Option<string?> LateAllowance() => new("--late-allowance")
    {
        Description = "How long after the window end segments may still hold its points (default 2h). Points that reach the sink later are "
            + "only compacted by a rerun with a wider allowance, e.g. --late-allowance 24h --force.",
    };

    public static Option<string[]> KafkaSettings() => new("--kafka-setting")
    {
        Description = "A librdkafka property, key=value (repeatable), e.g. security.protocol=SASL_SSL or session.timeout.ms=6000.",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object on stdout and nothing else there (progress stays on stderr)." };

    /// <summary>Opens the store a <c>--store</c> URI names.</summary>
    /// <param name="uri">The URI.</param>
    /// <param name="mustExist">Refuse a local folder that does not exist (commands that only read) instead of creating it.</param>
    public static IObjectStore OpenStore(string uri, bool mustExist)
    {
        if (!StoreUri.TryParse(uri, out var parsed, out var problem))
        {
            throw new CliException($"--store: {problem}", ExitCodes.BadArguments);
        }

        if (mustExist && parsed.Kind == StoreKind.Local && !Directory.Exists(parsed.LocalPath))
        {
            throw new CliException($"--store: there is no store at {parsed.LocalPath} (the folder does not exist). Write one with: tailor gen --store {uri} --points 1000000", ExitCodes.BadArguments);
        }

        if (!mustExist && parsed.Kind == StoreKind.Local)
        {
            // A store that writes: say up front when its folder cannot be made or written.
            EnsureWritableFolder(parsed.LocalPath!, "--store");
        }

        try
        {
            return ObjectStoreFactory.Open(parsed);
        }
        catch (ObjectStoreException e)
        {
            throw new CliException($"--store: {e.Message}", ExitCodes.BadArguments);
        }
    }

    public static CompactionWindow ParseWindow(string text) =>
        CompactionWindow.TryParse(text, out var window, out var problem) ? window : throw new CliException($"--window: {problem}", ExitCodes.BadArguments);

    public static ShardName ParseShard(string text) =>
        ShardName.TryParse(text, out var shard) ? shard : throw new CliException($"--shard: '{text}' is not a shard name: use org-mod-K (a shared shard) or org-<id> (an org's own shard), e.g. org-mod-3.", ExitCodes.BadArguments);

    /// <summary>
    /// Parses a size: a number of bytes, or a number with KiB, MiB, GiB, TiB (or K, M, G, T, KB, MB, GB: all
    /// powers of 1024). Zero is a size; whether it is large enough is for the option's own check to say.
    /// </summary>
    public static long ParseBytes(string text, string option)
    {
        var trimmed = text.Trim();
        var digits = 0;
        while (digits < trimmed.Length && (char.IsAsciiDigit(trimmed[digits]) || trimmed[digits] == '.'))
        {
            digits++;
        }

        var unit = trimmed[digits..].Trim().ToUpperInvariant();
        long? scale = unit switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            "T" or "TB" or "TIB" => 1L << 40,
            _ => null,
        };
        if (digits == 0 || scale is null || !double.TryParse(trimmed[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number < 0)
        {
            throw new CliException($"{option}: '{text}' is not a size: use bytes or a number with a unit, e.g. 1073741824, 512MiB or 2GiB.", ExitCodes.BadArguments);
        }

        var bytes = number * scale.Value;
        if (bytes >= 1L << 62)
        {
            throw new CliException($"{option}: '{text}' is too large: use at most 4 EiB.", ExitCodes.BadArguments);
        }

        return (long)bytes;
    }

    /// <summary>Parses a time: ISO 8601 (UTC unless an offset is given) or Unix seconds.</summary>
    public static DateTimeOffset ParseTime(string text, string option)
    {
        var trimmed = text.Trim();
        if (long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds);
        }

        if (DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        throw new CliException($"{option}: '{text}' is not a time: use 2026-11-26T01:30Z (UTC unless an offset is given) or Unix seconds.", ExitCodes.BadArguments);
    }

    /// <summary>Parses a duration: 30s, 5m, 2h, or a number of seconds.</summary>
    public static TimeSpan ParseDuration(string text, string option)
    {
        var trimmed = text.Trim();
        if (double.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var plain) && plain > 0)
        {
            return TimeSpan.FromSeconds(plain);
        }

        if (trimmed.Length >= 2 && double.TryParse(trimmed.AsSpan(0, trimmed.Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            switch (trimmed[^1])
            {
                case 's':
                    return TimeSpan.FromSeconds(n);
                case 'm':
                    return TimeSpan.FromMinutes(n);
                case 'h':
                    return TimeSpan.FromHours(n);
            }
        }

        throw new CliException($"{option}: '{text}' is not a duration: use e.g. 10s, 5m or 1h.", ExitCodes.BadArguments);
    }

    /// <summary>Parses an allowance: 0, or a number with s, m, h or d (a plain number is seconds).</summary>
    public static TimeSpan ParseAllowance(string text, string option)
    {
        var trimmed = text.Trim();
        if (trimmed is "0")
        {
            return TimeSpan.Zero;
        }

        if (trimmed.Length >= 2 && trimmed[^1] == 'd'
            && double.TryParse(trimmed.AsSpan(0, trimmed.Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var days) && days > 0 && days <= 3650)
        {
            return TimeSpan.FromDays(days);
        }

        try
        {
            var parsed = ParseDuration(trimmed, option);
            if (parsed <= TimeSpan.FromDays(3650))
            {
                return parsed;
            }
        }
        catch (CliException)
        {
        }

        throw new CliException($"{option}: '{text}' is not an allowance: use 0 or a duration up to ten years, e.g. 30m, 6h or 2d.", ExitCodes.BadArguments);
    }

    /// <summary><c>--shard-map FILE</c>: the sink's shard map, to count payloads it routes to another shard.</summary>
    public static Option<string?> ShardMapFile() => new("--shard-map")
    {
        Description = "The sink's shard-map JSON file ({\"sharedShards\": 64, \"dedicated\": [1234]}), to count payloads whose org it routes to another shard, dedicated orgs included; sets --shards.",
    };

    /// <summary>Sets <see cref="CompactionOptions.SharedShards"/> and <see cref="CompactionOptions.DedicatedOrgs"/> from <c>--shards</c> or <c>--shard-map</c>.</summary>
    public static void ApplyRouting(ParseResult parse, Option<int?> shards, Option<string?> shardMap, CompactionOptions options)
    {
        options.SharedShards = parse.GetValue(shards);
        if (options.SharedShards is < 1 or > ShardMap.MaxSharedShards)
        {
            throw new CliException($"--shards must be between 1 and {ShardMap.MaxSharedShards} (was {options.SharedShards}).", ExitCodes.BadArguments);
        }

        if (parse.GetValue(shardMap) is not { } path)
        {
            return;
        }

        if (options.SharedShards is not null)
        {
            throw new CliException("Give either --shards N or --shard-map FILE, not both (the map names its shared shards).", ExitCodes.BadArguments);
        }

        ShardMap map;
        try
        {
            map = ShardMap.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--shard-map: cannot read {path}: {e.Message}", ExitCodes.BadArguments);
        }
        catch (FormatException e)
        {
            throw new CliException($"--shard-map: {path} is not a shard map: {e.Message}", ExitCodes.BadArguments);
        }

        options.SharedShards = map.SharedShards;
        options.DedicatedOrgs = [.. map.DedicatedOrgs];
    }

    /// <summary>Sets the planner's allowances from <c>--early-allowance</c> and <c>--late-allowance</c> when given.</summary>
    public static void ApplyAllowances(ParseResult parse, Option<string?> early, Option<string?> late, CompactionOptions options)
    {
        if (parse.GetValue(early) is { } before)
        {
            options.EarlyAllowance = ParseAllowance(before, "--early-allowance");
        }

        if (parse.GetValue(late) is { } after)
        {
            options.LateAllowance = ParseAllowance(after, "--late-allowance");
        }
    }

    /// <summary>Parses repeated <c>--kafka-setting key=value</c>.</summary>
    public static Dictionary<string, string> ParseSettings(IEnumerable<string>? settings)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var setting in settings ?? [])
        {
            var equals = setting.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliException($"--kafka-setting '{setting}' is not key=value, e.g. security.protocol=SASL_SSL.", ExitCodes.BadArguments);
            }

            result[setting[..equals].Trim()] = setting[(equals + 1)..];
        }

        return result;
    }

    /// <summary>The compaction options the common flags set.</summary>
    public static CompactionOptions JobOptions(ParseResult parse, Option<string?> memory, Option<int?> parallelism, Option<string?> workDirectory)
    {
        var options = new CompactionOptions();
        if (parse.GetValue(memory) is { } budget)
        {
            options.MemoryBudgetBytes = ParseBytes(budget, "--memory");
        }

        if (parse.GetValue(parallelism) is { } threads)
        {
            options.Parallelism = threads;
        }

        if (parse.GetValue(workDirectory) is { } folder)
        {
            options.WorkDirectory = EnsureWritableFolder(folder, "--work-dir");
        }

        return options;
    }

    /// <summary>Checks compaction options and names the flag of the first bad one, in the words of the flag.</summary>
    public static void Validate(CompactionOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            var flag = e.ParamName switch
            {
                nameof(CompactionOptions.MemoryBudgetBytes) => "--memory",
                nameof(CompactionOptions.Parallelism) => "--parallelism",
                nameof(CompactionOptions.SplitBytes) => "--split-bytes",
                nameof(CompactionOptions.TargetPartBytes) => "--part-bytes",
                nameof(CompactionOptions.WorkDirectory) => "--work-dir",
                nameof(CompactionOptions.EarlyAllowance) or nameof(CompactionOptions.LateAllowance) => "--early-allowance and --late-allowance",
                _ => "options",
            };
            var message = e.Message.Split(" (Parameter", 2)[0];
            throw new CliException(e.ParamName is { } name && message.StartsWith(name, StringComparison.Ordinal) ? flag + message[name.Length..] : $"{flag}: {message}", ExitCodes.BadArguments);
        }
    }

    /// <summary>
    /// Makes sure a folder the user named can hold files: creates it and writes and deletes a probe file,
    /// so an unusable path (under a regular file, read-only, on a full disk) is one clear line up front
    /// instead of a failure in the middle of a job.
    /// </summary>
    /// <param name="path">The folder.</param>
    /// <param name="option">The option that named it, for the message.</param>
    /// <exception cref="CliException">The folder cannot be created or written (exit code 2).</exception>
    public static string EnsureWritableFolder(string path, string option)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new CliException($"{option}: '{path}' is not a usable path: {e.Message}", ExitCodes.BadArguments);
        }

        for (var parent = full; !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            if (File.Exists(parent))
            {
                throw new CliException($"{option}: cannot use {full}: {parent} is a file, not a folder.", ExitCodes.BadArguments);
            }
        }

        try
        {
            Directory.CreateDirectory(full);
            var probe = Path.Combine(full, $".tailor-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
            return full;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{option}: cannot write to {full}: {e.Message}", ExitCodes.BadArguments);
        }
    }

    /// <summary>
    /// Refuses a window whose segment hours (from the early allowance before it to the late allowance after
    /// it) reach outside the years 1 to 9999 that times and segment keys can name.
    /// </summary>
    public static void CheckReach(CompactionWindow window, CompactionOptions options)
    {
        var first = window.Start.UtcTicks - options.EarlyAllowance.Ticks;
        var last = window.End.UtcTicks + options.LateAllowance.Ticks;
        if (first < DateTimeOffset.MinValue.UtcTicks || last > DateTimeOffset.MaxValue.UtcTicks - TimeSpan.TicksPerHour)
        {
            throw new CliException(
                $"--window: {window} with an early allowance of {options.EarlyAllowance.TotalHours:0.##}h and a late allowance of {options.LateAllowance.TotalHours:0.##}h "
                + "reaches outside the years 1 to 9999 that segment hours can name: choose a later or earlier window, or smaller allowances (--early-allowance 0, --late-allowance 0).",
                ExitCodes.BadArguments);
        }
    }

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:F1} KiB",
        _ => $"{bytes} B",
    };
}
