using System.Diagnostics;
using ParquetSharp;
using ParquetSharp.IO;

namespace Tailor.Benchmarks.Codecs;

/// <summary>
/// The Parquet peer of the codec comparison: the same points in one Parquet file (ParquetSharp, the
/// Arrow C++ writer) with columns series id (int32), timestamp (int64), value (double), sorted by
/// series then time, zstd level 3, DELTA_BINARY_PACKED timestamps and BYTE_STREAM_SPLIT values
/// (dictionary off for both), one row group per 1,048,576 rows.
/// </summary>
/// <remarks>
/// The quoted bytes per point exclude the series id column (its compressed column chunks), because a
/// series block in an S-file carries no key either; <see cref="CodecFigures.BytesPerPointWithSeriesKey"/>
/// reports the whole file. Write and read times cover all three columns, in memory.
/// </remarks>
internal static class ParquetPeer
{
    private const int RowGroupRows = 1 << 20;

    public static CodecFigures Measure(ICodecCorpus corpus, List<int>[] byFamily, int iterations)
    {
        var figures = new CodecFigures();
        double writeSeconds = 0;
        double readSeconds = 0;
        long totalPoints = 0;
        long totalValueBytes = 0;
        long totalFileBytes = 0;
        for (int f = 0; f < byFamily.Length; f++)
        {
            if (byFamily[f].Count == 0)
            {
                continue;
            }

            var (ids, ts, vs) = Flatten(corpus, byFamily[f]);
            var one = MeasureOne(ids, ts, vs, iterations);
            figures.Families[corpus.Families[f]] = new FamilyFigures
            {
                Series = byFamily[f].Count,
                Points = ids.Length,
                Bytes = one.ValueBytes,
                BytesPerPoint = one.ValueBytes / (double)ids.Length,
                EncodePointsPerSec = ids.Length / one.WriteSeconds,
                DecodePointsPerSec = ids.Length / one.ReadSeconds,
            };
        }

        // The whole corpus in one file: the overall figures.
        var all = new List<int>(corpus.SeriesCount);
        for (int i = 0; i < corpus.SeriesCount; i++)
        {
            all.Add(i);
        }

        var (allIds, allTs, allVs) = Flatten(corpus, all);
        var whole = MeasureOne(allIds, allTs, allVs, iterations);
        writeSeconds += whole.WriteSeconds;
        readSeconds += whole.ReadSeconds;
        totalPoints += allIds.Length;
        totalValueBytes += whole.ValueBytes;
        totalFileBytes += whole.FileBytes;

        figures.Bytes = totalValueBytes;
        figures.BytesPerPoint = totalValueBytes / (double)totalPoints;
        figures.BytesPerPointWithSeriesKey = totalFileBytes / (double)totalPoints;
        figures.EncodePointsPerSec = totalPoints / writeSeconds;
        figures.DecodePointsPerSec = totalPoints / readSeconds;
        return figures;
    }

    private static (int[] Ids, long[] Timestamps, double[] Values) Flatten(ICodecCorpus corpus, List<int> series)
    {
        long count = 0;
        foreach (int i in series)
        {
            count += corpus.GetTimestamps(i).Length;
        }

        var ids = new int[count];
        var ts = new long[count];
        var vs = new double[count];
        int at = 0;
        foreach (int i in series)
        {
            var t = corpus.GetTimestamps(i);
            ids.AsSpan(at, t.Length).Fill(i);
            t.CopyTo(ts.AsSpan(at));
            corpus.GetValues(i).CopyTo(vs.AsSpan(at));
            at += t.Length;
        }

        return (ids, ts, vs);
    }

    private static (long ValueBytes, long FileBytes, double WriteSeconds, double ReadSeconds) MeasureOne(int[] ids, long[] ts, double[] vs, int iterations)
    {
        double bestWrite = double.MaxValue;
        double bestRead = double.MaxValue;
        long valueBytes = 0;
        long fileBytes = 0;
        var readIds = new int[ids.Length];
        var readTs = new long[ts.Length];
        var readVs = new double[vs.Length];
        for (int r = 0; r < iterations + 2; r++)
        {
            long start = Stopwatch.GetTimestamp();
            using var buffer = Write(ids, ts, vs);
            double write = Stopwatch.GetElapsedTime(start).TotalSeconds;

            start = Stopwatch.GetTimestamp();
            long keyBytes = Read(buffer, readIds, readTs, readVs);
            double read = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (r == 0)
            {
                if (!readIds.AsSpan().SequenceEqual(ids) || !readTs.AsSpan().SequenceEqual(ts)
                    || !System.Runtime.InteropServices.MemoryMarshal.AsBytes(readVs.AsSpan()).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vs.AsSpan())))
                {
                    throw new InvalidOperationException("The Parquet peer did not read back what it wrote.");
                }

                fileBytes = buffer.Size;
                valueBytes = fileBytes - keyBytes;
            }

            if (r < 2)
            {
                continue; // warm-up rounds
            }

            bestWrite = Math.Min(bestWrite, write);
            bestRead = Math.Min(bestRead, read);
        }

        return (valueBytes, fileBytes, bestWrite, bestRead);
    }

    private static ParquetSharp.IO.Buffer Write(int[] ids, long[] ts, double[] vs)
    {
        var columns = new Column[]
        {
            new Column<int>("series_id"),
            new Column<long>("timestamp"),
            new Column<double>("value"),
        };
        using var properties = new WriterPropertiesBuilder()
            .Compression(Compression.Zstd)
            .CompressionLevel(3)
            .DisableDictionary("timestamp")
            .DisableDictionary("value")
            .Encoding("timestamp", Encoding.DeltaBinaryPacked)
            .Encoding("value", Encoding.ByteStreamSplit)
            .Build();
        using var output = new BufferOutputStream();
        using (var writer = new ParquetFileWriter(output, columns, properties))
        {
            for (int start = 0; start < ids.Length; start += RowGroupRows)
            {
                int count = Math.Min(RowGroupRows, ids.Length - start);
                using var rowGroup = writer.AppendRowGroup();
                using (var column = (ColumnWriter<int>)rowGroup.NextColumn())
                {
                    column.WriteBatch(ids.AsSpan(start, count));
                }

                using (var column = (ColumnWriter<long>)rowGroup.NextColumn())
                {
                    column.WriteBatch(ts.AsSpan(start, count));
                }

                using (var column = (ColumnWriter<double>)rowGroup.NextColumn())
                {
                    column.WriteBatch(vs.AsSpan(start, count));
                }
            }

            writer.Close();
        }

        return output.Finish();
    }

    /// <summary>Reads every column back; returns the compressed size of the series id column chunks.</summary>
    private static long Read(ParquetSharp.IO.Buffer buffer, int[] ids, long[] ts, double[] vs)
    {
        using var input = new BufferReader(buffer);
        using var reader = new ParquetFileReader(input);
        long keyBytes = 0;
        int at = 0;
        for (int g = 0; g < reader.FileMetaData.NumRowGroups; g++)
        {
            using var rowGroup = reader.RowGroup(g);
            int rows = checked((int)rowGroup.MetaData.NumRows);
            using (var chunk = rowGroup.MetaData.GetColumnChunkMetaData(0))
            {
                keyBytes += chunk.TotalCompressedSize;
            }

            using (var column = (ColumnReader<int>)rowGroup.Column(0))
            {
                ReadAll(column, ids.AsSpan(at, rows));
            }

            using (var column = (ColumnReader<long>)rowGroup.Column(1))
            {
                ReadAll(column, ts.AsSpan(at, rows));
            }

            using (var column = (ColumnReader<double>)rowGroup.Column(2))
            {
                ReadAll(column, vs.AsSpan(at, rows));
            }

            at += rows;
        }

        return keyBytes;
    }

    private static void ReadAll<T>(ColumnReader<T> column, Span<T> destination)
        where T : unmanaged
    {
        int at = 0;
        while (at < destination.Length)
        {
            column.ReadBatch(destination.Length - at, destination[at..], out long read);
            if (read == 0)
            {
                throw new InvalidOperationException("The Parquet column ended early.");
            }

            at += (int)read;
        }
    }
}
