using System.Globalization;
using Tailor.Cli.Commands;

namespace Tailor.Cli.Demo;

/// <summary>
/// The demo's local data folder: every run gets a <c>run-…</c> folder of its own, and a marker file
/// (<see cref="MarkerName"/>) lists the runs the demo created there, so <c>--clean</c> deletes exactly
/// those and nothing else a user keeps beside them.
/// </summary>
internal static class DemoFolder
{
    /// <summary>The marker file: one line per run folder the demo created.</summary>
    public const string MarkerName = ".tailor-demo";

    /// <summary>
    /// Checks that the data folder can be written and, with <paramref name="clean"/>, deletes the runs the
    /// demo made in it (refusing a folder without the marker).
    /// </summary>
    /// <exception cref="CliException">The folder is unusable, or <c>--clean</c> names a folder the demo did not make (exit code 2).</exception>
    public static void Prepare(string dataFolder, bool clean)
    {
        var full = Path.GetFullPath(dataFolder);
        if (clean && Directory.Exists(full))
        {
            Clean(full);
        }

        CompactionArguments.EnsureWritableFolder(full, "--data");
    }

    /// <summary>Creates a new run folder and records it in the marker.</summary>
    /// <returns>The run folder's full path.</returns>
    public static string NewRun(string dataFolder)
    {
        var full = Path.GetFullPath(dataFolder);
        var name = $"run-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}";
        var run = Path.Combine(full, name);
        for (var n = 2; Directory.Exists(run); n++)
        {
            run = Path.Combine(full, $"{name}-{n}");
        }

        Directory.CreateDirectory(run);
        File.AppendAllLines(Path.Combine(full, MarkerName), [Path.GetFileName(run)]);
        return run;
    }

    private static void Clean(string full)
    {
        var marker = Path.Combine(full, MarkerName);
        if (!File.Exists(marker))
        {
            if (!Directory.EnumerateFileSystemEntries(full).Any())
            {
                return;
            }

            throw new CliException($"--clean: {full} was not made by tailor demo (it has no {MarkerName} file), so nothing in it is deleted: "
                + "delete it yourself, or choose another --data folder.", ExitCodes.BadArguments);
        }

        foreach (var line in File.ReadAllLines(marker))
        {
            var name = line.Trim();

            // Only plain names of run folders: a marker edited to point elsewhere deletes nothing outside.
            if (name.StartsWith("run-", StringComparison.Ordinal) && name == Path.GetFileName(name) && Directory.Exists(Path.Combine(full, name)))
            {
                Directory.Delete(Path.Combine(full, name), recursive: true);
            }
        }

        File.Delete(marker);
        var left = Directory.EnumerateFileSystemEntries(full).Select(Path.GetFileName).ToList();
        if (left.Count == 0)
        {
            Directory.Delete(full);
        }
        else
        {
            Console.Error.WriteLine($"--clean: kept {left.Count} entries the demo did not make in {full} ({string.Join(", ", left.Take(5))}{(left.Count > 5 ? ", …" : "")}).");
        }
    }
}
