using System.Globalization;
using System.Security.Cryptography;
using Parquet;
using Parquet.Schema;
using Tailor.Compaction;
using Tailor.Cli.Commands;
using Tailor.Compaction.Writing;
using Tailor.Format.Series;
using Tailor.Storage;

namespace Tailor.Cli.Export;

/// <summary>One Parquet file <see cref="ParquetExport"/> wrote: the part it came from and what it holds.</summary>
/// <param name="Shard">The part's shard.</param>
/// <param name="Window">The window, e.g. <c>2026-11-26T00:00Z/4h</c>.</param>
/// <param name="Generation">The manifest's generation the part belongs to.</param>
/// <param name="Part">The part's number in its window.</param>
/// <param name="Key">The part's key in the store.</param>
/// <param name="File">The Parquet file's full path.</param>
/// <param name="Rows">Points written (one row each); equal to the manifest's count for the part.</param>
/// <param name="Series">Series written; equal to the manifest's count for the part.</param>
/// <param name="Bytes">The Parquet file's size.</param>
internal sealed record ExportedFile(string Shard, string Window, string Generation, int Part, string Key, string File, long Rows, long Series, long Bytes);

/// <summary>A compacted window's manifest and the shard it was found in.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="Key">The manifest's key.</param>
/// <param name="Manifest">The parsed manifest.</param>
internal sealed record WindowManifest(ShardName Shard, string Key, CompactionManifest Manifest);

/// <summary>
/// <c>tailor export</c>'s work: each compacted part of a window, read through its manifest and checked
/// against it (size, SHA-256, series and point counts), becomes one Parquet file with the columns
/// <c>org</c> (uint32), <c>metric</c> (uint64), <c>context</c> (uint64), <c>ts</c> (int64, Unix seconds)
/// and <c>value</c> (double), rows in S-file order (series key, then time), zstd-compressed.
/// </summary>
/// <remarks>
/// File names are built from the parsed shard name, window start and part number only (e.g.
/// <c>org-mod-3_20261126T0000Z_00000.parquet</c>), never from text taken from the store, and the full
/// path is checked to lie directly inside the output folder. A file is written under a temporary name
/// and renamed when complete, so a file with the final name is always whole.
/// </remarks>
internal static class ParquetExport
{
    /// <summary>Rows per row group: 1 Mi rows (36 MiB of column buffers).</summary>
    public const int RowGroupRows = 1 << 20;

    private static readonly DataField<uint> OrgField = new("org");
    private static readonly DataField<ulong> MetricField = new("metric");
    private static readonly DataField<ulong> ContextField = new("context");
    private static readonly DataField<long> TimestampField = new("ts");
    private static readonly DataField<double> ValueField = new("value");
    private static readonly ParquetSchema Schema = new(OrgField, MetricField, ContextField, TimestampField, ValueField);

    /// <summary>The manifests of a window: of one shard, or of every shard that has one.</summary>
    /// <param name="store">The store.</param>
    /// <param name="window">The window.</param>
    /// <param name="shard">One shard, or null for every shard (found by listing <c>series/</c>).</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The manifests in shard order; empty when none exists.</returns>
    /// <exception cref="CliException">A manifest is not readable.</exception>
    public static async Task<List<WindowManifest>> FindManifestsAsync(IObjectStore store, CompactionWindow window, ShardName? shard, CancellationToken cancellationToken)
    {
        var keys = new List<(ShardName Shard, string Key)>();
        if (shard is { } one)
        {
            keys.Add((one, ObjectKeys.Manifest(one, window.Start)));
        }
        else
        {
            // The store has no delimiter listing: list every S-file key once and keep this window's manifests.
            await foreach (var info in store.ListAsync(ObjectKeys.SeriesRoot, cancellationToken).ConfigureAwait(false))
            {
                if (ObjectKeys.TryParseManifest(info.Key, out var found, out var start) && start == window.Start)
                {
                    keys.Add((found, info.Key));
                }
            }
        }

        var manifests = new List<WindowManifest>();
        foreach (var (name, key) in keys)
        {
            if (await store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is not { } info)
            {
                continue;
            }

            if (info.Size > 64L << 20)
            {
                throw new CliException($"{store.Name}/{key} is {info.Size:N0} bytes, too large for a manifest: recompact the window (tailor compact --force).");
            }

            var bytes = new byte[info.Size];
            var read = await store.ReadAsync(key, 0, bytes, cancellationToken).ConfigureAwait(false);
            try
            {
                var manifest = CompactionManifest.Parse(bytes.AsSpan(0, read));
                if (manifest.Shard != name.Value || !CompactionWindow.TryParse(manifest.Window, out var named, out _) || named.Start != window.Start || named.Length != window.Length)
                {
                    throw new CliException($"{store.Name}/{key} is the manifest of {manifest.Shard} {manifest.Window}, not of {name.Value} {window}: the store is inconsistent.");
                }

                manifests.Add(new WindowManifest(name, key, manifest));
            }
            catch (FormatException e)
            {
                throw new CliException($"{store.Name}/{key} is unreadable: {e.Message} Recompact the window (tailor compact --force).");
            }
        }

        return [.. manifests.OrderBy(m => m.Shard.Value, StringComparer.Ordinal)];
    }

    /// <summary>The Parquet file name of a part: shard, window start and part number, nothing else.</summary>
    /// <param name="shard">The part's shard (a parsed name: <c>org-mod-K</c> or <c>org-&lt;id&gt;</c>).</param>
    /// <param name="windowStart">The window's start.</param>
    /// <param name="part">The part's number.</param>
    /// <returns>E.g. <c>org-mod-3_20261126T0000Z_00000.parquet</c>: no separators, no colons (Hadoop paths refuse them).</returns>
    public static string FileName(ShardName shard, DateTimeOffset windowStart, int part) =>
        string.Create(CultureInfo.InvariantCulture, $"{shard.Value}_{windowStart.UtcDateTime:yyyyMMdd'T'HHmm'Z'}_{part:D5}.parquet");

    /// <summary>Exports every part of a manifest into <paramref name="outputFolder"/>.</summary>
    /// <param name="store">The store.</param>
    /// <param name="found">The manifest and its shard.</param>
    /// <param name="outputFolder">An existing folder (full path).</param>
    /// <param name="progress">Receives a line per part; null for none.</param>
    /// <param name="cancellationToken">Cancels the export.</param>
    /// <returns>The files written, one per part.</returns>
    public static async Task<List<ExportedFile>> ExportAsync(IObjectStore store, WindowManifest found, string outputFolder, TextWriter? progress, CancellationToken cancellationToken)
    {
        var files = new List<ExportedFile>();
        var work = Path.Combine(Path.GetTempPath(), $"tailor-export-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            foreach (var part in found.Manifest.Outputs)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (progress is not null)
                {
                    await progress.WriteLineAsync($"exporting {part.Key} ({part.Points:N0} points, {CompactionArguments.Bytes(part.Size)}) …").ConfigureAwait(false);
                }

                files.Add(await ExportPartAsync(store, found, part, outputFolder, work, cancellationToken).ConfigureAwait(false));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        return files;
    }

    private static async Task<ExportedFile> ExportPartAsync(IObjectStore store, WindowManifest found, PartInfo part, string outputFolder, string work, CancellationToken cancellationToken)
    {
        var manifest = found.Manifest;
        if (!ObjectKeys.TryParseSeriesFile(part.Key, out var key) || key.Shard != found.Shard || key.WindowStart != CompactionWindow.Parse(manifest.Window).Start)
        {
            throw new CliException($"{store.Name}/{found.Key} names a part '{part.Key}' that is not an S-file of {found.Shard.Value} {manifest.Window}: the manifest is damaged; recompact the window (tailor compact --force).");
        }

        var target = Path.GetFullPath(Path.Combine(outputFolder, FileName(key.Shard, key.WindowStart, key.Part)));
        if (!string.Equals(Path.GetDirectoryName(target), Path.GetFullPath(outputFolder).TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
        {
            throw new CliException($"The file name for {part.Key} would leave the output folder {outputFolder}.");
        }

        var local = Path.Combine(work, $"{key.Part:D5}.tsf");
        await DownloadAsync(store, part, local, cancellationToken).ConfigureAwait(false);
        var temporary = target + ".tmp";
        long rows, series;
        try
        {
            // The scanner is a ref struct over the mapped file and cannot live across an await: the part
            // is scanned and written on a pool thread, Parquet.Net's writes awaited there.
            (rows, series) = await Task.Run(() => Write(local, temporary, manifest, key, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        catch (SFileFormatException e)
        {
            File.Delete(temporary);
            throw new CliException($"{store.Name}/{part.Key} is damaged: {e.Message}");
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        finally
        {
            File.Delete(local);
        }

        if (rows != part.Points || series != part.Series)
        {
            File.Delete(temporary);
            throw new CliException($"{store.Name}/{part.Key} holds {series:N0} series and {rows:N0} points, its manifest says {part.Series:N0} and {part.Points:N0}: nothing was exported for it.");
        }

        File.Move(temporary, target, overwrite: true);
        return new ExportedFile(found.Shard.Value, manifest.Window, manifest.Generation, key.Part, part.Key, target, rows, series, new FileInfo(target).Length);
    }

    private static async Task DownloadAsync(IObjectStore store, PartInfo part, string path, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        try
        {
            await using var source = await store.OpenReadAsync(part.Key, cancellationToken: cancellationToken).ConfigureAwait(false);
            await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            var buffer = new byte[1 << 20];
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                length += read;
            }
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
        {
            throw new CliException($"{store.Name}/{part.Key} is missing although the window's manifest names it: recompact the window (tailor compact --force).");
        }

        var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (length != part.Size || !string.Equals(sha, part.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException($"{store.Name}/{part.Key} is {length:N0} bytes with SHA-256 {sha}; its manifest says {part.Size:N0} bytes and {part.Sha256}: the part was altered, nothing was exported for it.");
        }
    }

    private static (long Rows, long Series) Write(string sfile, string parquet, CompactionManifest manifest, SeriesFileKey key, CancellationToken cancellationToken)
    {
        using var mapped = new MappedSFile(sfile);
        var scanner = new SFileScanner(mapped);
        try
        {
            using var output = new FileStream(parquet, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20);
            var options = new ParquetOptions { CompressionMethod = CompressionMethod.Zstd, CompressionLevel = System.IO.Compression.CompressionLevel.Optimal };
            var writer = ParquetWriter.CreateAsync(Schema, output, options, cancellationToken: cancellationToken).GetAwaiter().GetResult();
            try
            {
                writer.CustomMetadata = new Dictionary<string, string>
                {
                    ["tailor.shard"] = key.Shard.Value,
                    ["tailor.window"] = manifest.Window,
                    ["tailor.generation"] = manifest.Generation,
                    ["tailor.part"] = key.Part.ToString(CultureInfo.InvariantCulture),
                    ["tailor.codec"] = manifest.Codec,
                    ["tailor.sorting"] = "org, metric, context, ts",
                };
                var batch = new RowBatch(RowGroupRows);
                var maxPoints = Math.Max(1, scanner.Layout.Footer.Stats.MaxPointCount);
                var timestamps = new long[maxPoints];
                var values = new double[maxPoints];
                long rows = 0;
                while (scanner.MoveNext())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var entry = scanner.Current;
                    var n = scanner.ReadPoints(timestamps, values);
                    var done = 0;
                    while (done < n)
                    {
                        var take = Math.Min(n - done, batch.Room);
                        batch.Add(entry.Key, timestamps.AsSpan(done, take), values.AsSpan(done, take));
                        done += take;
                        if (batch.Room == 0)
                        {
                            batch.WriteTo(writer, cancellationToken);
                        }
                    }

                    rows += n;
                }

                if (batch.Count > 0)
                {
                    batch.WriteTo(writer, cancellationToken);
                }

                return (rows, scanner.SeriesRead);
            }
            finally
            {
                writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        finally
        {
            scanner.Dispose();
        }
    }

    /// <summary>The column buffers of one row group.</summary>
    private sealed class RowBatch(int capacity)
    {
        private readonly uint[] _org = new uint[capacity];
        private readonly ulong[] _metric = new ulong[capacity];
        private readonly ulong[] _context = new ulong[capacity];
        private readonly long[] _timestamp = new long[capacity];
        private readonly double[] _value = new double[capacity];

        public int Count { get; private set; }

        public int Room => capacity - Count;

        public void Add(SeriesKey key, ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values)
        {
            var n = timestamps.Length;
            _org.AsSpan(Count, n).Fill(key.OrgId);
            _metric.AsSpan(Count, n).Fill(key.MetricId);
            _context.AsSpan(Count, n).Fill(key.ContextKey);
            timestamps.CopyTo(_timestamp.AsSpan(Count));
            values.CopyTo(_value.AsSpan(Count));
            Count += n;
        }

        public void WriteTo(ParquetWriter writer, CancellationToken cancellationToken)
        {
            using (var group = writer.CreateRowGroup())
            {
                group.WriteAsync<uint>(OrgField, _org.AsMemory(0, Count), cancellationToken: cancellationToken).GetAwaiter().GetResult();
                group.WriteAsync<ulong>(MetricField, _metric.AsMemory(0, Count), cancellationToken: cancellationToken).GetAwaiter().GetResult();
                group.WriteAsync<ulong>(ContextField, _context.AsMemory(0, Count), cancellationToken: cancellationToken).GetAwaiter().GetResult();
                group.WriteAsync<long>(TimestampField, _timestamp.AsMemory(0, Count), cancellationToken: cancellationToken).GetAwaiter().GetResult();
                group.WriteAsync<double>(ValueField, _value.AsMemory(0, Count), cancellationToken: cancellationToken).GetAwaiter().GetResult();
                group.CompleteValidate();
            }

            Count = 0;
        }
    }
}
