using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Tailor.Query.AspNetCore;

/// <summary>A query-string parameter that breaks a rule: answered with 400 naming both.</summary>
internal sealed class ParameterException(string parameter, string rule, string detail) : Exception(detail)
{
    public string Parameter { get; } = parameter;

    public string Rule { get; } = rule;
}

/// <summary>Reads and checks the query-string parameters of the API.</summary>
internal static class ApiParameters
{
    public static uint Org(HttpRequest request) =>
        uint.TryParse(Required(request, "org"), NumberStyles.None, CultureInfo.InvariantCulture, out var org)
            ? org
            : throw new ParameterException("org", "unsigned 32-bit integer", $"org '{request.Query["org"]}' is not an org id (an unsigned 32-bit integer).");

    public static ulong Metric(HttpRequest request) =>
        ulong.TryParse(Required(request, "metric"), NumberStyles.None, CultureInfo.InvariantCulture, out var metric)
            ? metric
            : throw new ParameterException("metric", "unsigned 64-bit integer", $"metric '{request.Query["metric"]}' is not a metric id (an unsigned 64-bit integer).");

    public static IReadOnlyList<ulong> Contexts(HttpRequest request)
    {
        var contexts = new List<ulong>();
        foreach (var value in request.Query["context"])
        {
            foreach (var part in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                contexts.Add(ulong.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var context)
                    ? context
                    : throw new ParameterException("context", "unsigned 64-bit integer", $"context '{part}' is not a context key (an unsigned 64-bit integer)."));
            }
        }

        return contexts;
    }

    /// <summary>The half-open range [from, to) in Unix seconds; both required, to after from.</summary>
    public static (long From, long To) Range(HttpRequest request, DateTimeOffset now)
    {
        var from = Time(request, "from", now);
        var to = Time(request, "to", now);
        return to > from ? (from, to) : throw new ParameterException("to", "after from", $"to ({to}) must be after from ({from}).");
    }

    public static TimeSpan? Step(HttpRequest request)
    {
        var text = request.Query["step"].ToString().Trim();
        if (text.Length == 0)
        {
            return null;
        }

        return Duration(text) is { } step && step >= TimeSpan.FromSeconds(1) && step.Ticks % TimeSpan.TicksPerSecond == 0
            ? step
            : throw new ParameterException("step", "whole seconds, at least 1", $"step '{text}' is not a step: give whole seconds such as 60, 30s, 5m, 1h or 1d.");
    }

    public static IReadOnlyList<QueryAggregation> Aggregations(HttpRequest request, bool stepped)
    {
        var text = request.Query["agg"].ToString().Trim();
        if (text.Length == 0)
        {
            return [];
        }

        if (!stepped)
        {
            throw new ParameterException("agg", "needs step", "agg needs a step: aggregations work per step bucket.");
        }

        return QueryAggregations.TryParse(text, out var aggregations, out var problem)
            ? aggregations
            : throw new ParameterException("agg", $"one or more of {string.Join(", ", QueryAggregations.Names)}", $"agg '{text}': {problem}");
    }

    private static string Required(HttpRequest request, string name)
    {
        var value = request.Query[name].ToString().Trim();
        return value.Length > 0 ? value : throw new ParameterException(name, "required", $"{name} is required.");
    }

    /// <summary>Unix seconds, ISO 8601 (UTC unless an offset is given), <c>now</c> or <c>now-6h</c>.</summary>
    private static long Time(HttpRequest request, string name, DateTimeOffset now)
    {
        var text = Required(request, name);
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds;
        }

        if (text == "now")
        {
            return now.ToUnixTimeSeconds();
        }

        if (text.StartsWith("now-", StringComparison.Ordinal) && Duration(text[4..]) is { } ago)
        {
            return (now - ago).ToUnixTimeSeconds();
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time.ToUnixTimeSeconds();
        }

        throw new ParameterException(name, "time", $"{name} '{text}' is not a time: give Unix seconds, 2026-11-26T00:00Z, now or now-6h.");
    }

    private static TimeSpan? Duration(string text)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var plain))
        {
            return plain <= 10L * 365 * 86400 ? TimeSpan.FromSeconds(plain) : null;
        }

        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount > 100_000)
        {
            return null;
        }

        return text[^1] switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => null,
        };
    }
}
