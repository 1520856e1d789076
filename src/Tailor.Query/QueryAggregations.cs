using System.Diagnostics.CodeAnalysis;

namespace Tailor.Query;

/// <summary>The names of <see cref="QueryAggregation"/>s as the command line and HTTP API write them: <c>min</c>, <c>max</c>, <c>sum</c>, <c>count</c>, <c>avg</c>, <c>first</c>, <c>last</c>, <c>rate</c>.</summary>
public static class QueryAggregations
{
    private static readonly string[] s_names = ["min", "max", "sum", "count", "avg", "first", "last", "rate"];

    /// <summary>Every aggregation's name, in enum order.</summary>
    public static IReadOnlyList<string> Names => s_names;

    /// <summary>The lower-case name of an aggregation.</summary>
    /// <param name="aggregation">The aggregation.</param>
    /// <returns>E.g. <c>avg</c>.</returns>
    public static string Name(QueryAggregation aggregation) =>
        (uint)aggregation < (uint)s_names.Length ? s_names[(int)aggregation] : throw new ArgumentOutOfRangeException(nameof(aggregation), aggregation, "Not an aggregation.");

    /// <summary>Parses a comma-separated list such as <c>avg,max</c> (case-insensitive, spaces allowed, no repeats).</summary>
    /// <param name="text">The list.</param>
    /// <param name="aggregations">The aggregations in the order written, when valid.</param>
    /// <param name="problem">What is wrong, when not.</param>
    /// <returns>Whether the list is valid.</returns>
    public static bool TryParse(string? text, [NotNullWhen(true)] out IReadOnlyList<QueryAggregation>? aggregations, [NotNullWhen(false)] out string? problem)
    {
        aggregations = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = $"The aggregation list is empty; name one or more of {string.Join(", ", s_names)}.";
            return false;
        }

        var list = new List<QueryAggregation>();
        foreach (var raw in text.Split(','))
        {
            var name = raw.Trim();
            var index = Array.FindIndex(s_names, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                problem = $"'{name}' is not an aggregation; use one or more of {string.Join(", ", s_names)}.";
                return false;
            }

            if (list.Contains((QueryAggregation)index))
            {
                problem = $"'{name}' is named twice in the aggregation list.";
                return false;
            }

            list.Add((QueryAggregation)index);
        }

        aggregations = list;
        problem = null;
        return true;
    }
}
