using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;

namespace Tailor.Benchmarks.Query;

/// <summary>
/// The query benchmark's peer: DuckDB computing the same step aggregate (avg and max per context and
/// step) over the same points, read from the Parquet files <c>tailor export</c> wrote of the same parts.
/// </summary>
public static class DuckDbAggregate
{
    /// <summary>One row of DuckDB's answer.</summary>
    /// <param name="Count">Points in the step.</param>
    /// <param name="Avg">Their mean.</param>
    /// <param name="Max">Their largest value.</param>
    public readonly record struct Row(long Count, double Avg, double Max);

    /// <summary>Runs the aggregate <paramref name="runs"/> times and keeps the fastest, then fetches its answer (untimed).</summary>
    /// <param name="files">The Parquet files.</param>
    /// <param name="orgId">The org.</param>
    /// <param name="metricId">The metric.</param>
    /// <param name="from">The range's start, a multiple of the step.</param>
    /// <param name="to">The range's end (exclusive).</param>
    /// <param name="step">The step, seconds.</param>
    /// <param name="threads">DuckDB's threads.</param>
    /// <param name="runs">Timed runs.</param>
    /// <returns>The fastest run's wall and process CPU seconds, and the answer per (context, step start).</returns>
    public static (double Seconds, double CpuSeconds, Dictionary<(ulong Context, long Bucket), Row> Answer) Run(
        IReadOnlyList<string> files, uint orgId, ulong metricId, long from, long to, long step, int threads, int runs)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        Execute(connection, string.Create(CultureInfo.InvariantCulture, $"SET threads = {threads};"));
        var list = string.Join(", ", files.Select(f => $"'{f.Replace("'", "''", StringComparison.Ordinal)}'"));

        // The answer lands in a table inside DuckDB, as the engine's lands in its result columns; fetching
        // it row by row through ADO.NET would time the driver, not the query.
        var query = string.Create(CultureInfo.InvariantCulture, $"""
            CREATE OR REPLACE TEMP TABLE answer AS
            SELECT context, {from} + ((ts - {from}) // {step}) * {step} AS bucket, count(*) AS n, avg(value) AS avg, max(value) AS max
            FROM read_parquet([{list}])
            WHERE org = {orgId} AND metric = {metricId} AND ts >= {from} AND ts < {to}
            GROUP BY context, bucket;
            """);
        var best = double.MaxValue;
        var bestCpu = 0.0;
        using var process = Process.GetCurrentProcess();
        for (var i = 0; i < runs; i++)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            Execute(connection, query);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            process.Refresh();
            if (seconds < best)
            {
                best = seconds;
                bestCpu = (process.TotalProcessorTime - cpu).TotalSeconds;
            }
        }

        var answer = new Dictionary<(ulong, long), Row>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT context, bucket, n, avg, max FROM answer";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                answer[(Convert.ToUInt64(reader.GetValue(0), CultureInfo.InvariantCulture), reader.GetInt64(1))] =
                    new Row(reader.GetInt64(2), reader.GetDouble(3), reader.GetDouble(4));
            }
        }

        return (best, bestCpu, answer);
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
