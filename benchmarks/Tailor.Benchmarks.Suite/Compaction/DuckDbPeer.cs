using System.Diagnostics;
using DuckDB.NET.Data;

namespace Tailor.Benchmarks.Compaction;

/// <summary>
/// What a user would reach for instead of a Spark cluster: DuckDB doing the same job on the same
/// points — group by series and time, keep the duplicate rule's winner, sort, write one zstd Parquet
/// file — timed from the points already in its memory to the file on disk.
/// </summary>
public static class DuckDbPeer
{
    /// <summary>The points handed to DuckDB, columnar.</summary>
    public sealed class Points
    {
        /// <summary>Org ids.</summary>
        public required uint[] Org { get; init; }

        /// <summary>Metric ids.</summary>
        public required ulong[] Metric { get; init; }

        /// <summary>Context keys.</summary>
        public required ulong[] Context { get; init; }

        /// <summary>Timestamps (s).</summary>
        public required long[] Timestamp { get; init; }

        /// <summary>Values.</summary>
        public required double[] Value { get; init; }

        /// <summary>Intake times (ns).</summary>
        public required long[] Intake { get; init; }

        /// <summary>How many points are filled in.</summary>
        public int Count { get; set; }
    }

    /// <summary>Loads the points into an in-memory DuckDB table (not timed), then times the job.</summary>
    /// <returns>Seconds for the dedupe, sort and Parquet write, and the rows written.</returns>
    public static (double Seconds, long Rows, long ParquetBytes) Run(Points points, string folder, int threads)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SET threads = {threads}; CREATE TABLE points (org UINTEGER, metric UBIGINT, context UBIGINT, ts BIGINT, value DOUBLE, intake BIGINT, winner HUGEINT);";
            command.ExecuteNonQuery();
        }

        using (var appender = connection.CreateAppender("points"))
        {
            for (var i = 0; i < points.Count; i++)
            {
                appender.CreateRow()
                    .AppendValue(points.Org[i])
                    .AppendValue(points.Metric[i])
                    .AppendValue(points.Context[i])
                    .AppendValue(points.Timestamp[i])
                    .AppendValue(points.Value[i])
                    .AppendValue(points.Intake[i])
                    .AppendValue((System.Numerics.BigInteger?)(((Int128)points.Intake[i] << 64) | BitConverter.DoubleToUInt64Bits(points.Value[i])))
                    .EndRow();
            }
        }

        var path = Path.Combine(folder, $"duckdb-{Guid.NewGuid():N}.parquet");
        var started = Stopwatch.GetTimestamp();
        using (var command = connection.CreateCommand())
        {
            // The duplicate rule: the latest intake wins, ties to the larger value bits. DuckDB cannot
            // reinterpret a double, so each point is loaded (untimed) with both as one 128-bit key,
            // intake above the bits: one comparison per point, where a pair of columns cost a third
            // of DuckDB's speed.
            command.CommandText = $"""
                COPY (
                    SELECT org, metric, context, ts,
                           max_by(value, winner) AS value
                    FROM points
                    GROUP BY org, metric, context, ts
                    ORDER BY org, metric, context, ts
                ) TO '{path}' (FORMAT parquet, COMPRESSION zstd);
                """;
            command.ExecuteNonQuery();
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        long rows;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT count(*) FROM read_parquet('{path}')";
            rows = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }

        var bytes = new FileInfo(path).Length;
        File.Delete(path);
        return (seconds, rows, bytes);
    }
}
