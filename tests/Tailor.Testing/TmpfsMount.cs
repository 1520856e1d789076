using System.Diagnostics;

namespace Tailor.Testing;

/// <summary>A tiny tmpfs mounted on a fresh folder, so a test can fill a disk for real; unmounted on dispose.</summary>
/// <remarks>Needs root (the tests run as root). Throws, never skips, when the mount fails.</remarks>
public sealed class TmpfsMount : IDisposable
{
    /// <summary>Mounts a tmpfs of <paramref name="size"/> (e.g. "1m").</summary>
    public TmpfsMount(string size)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tailor-tests", $"tmpfs-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", Path);
        if (code != 0)
        {
            Directory.Delete(Path);
            throw new InvalidOperationException($"Could not mount a {size} tmpfs on {Path} (exit {code}): {output}. The full-disk test needs root.");
        }
    }

    /// <summary>The mounted folder.</summary>
    public string Path { get; }

    /// <summary>Unmounts.</summary>
    public void Dispose()
    {
        Run("umount", "-l", Path);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static (int Code, string Output) Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Trim());
    }
}
