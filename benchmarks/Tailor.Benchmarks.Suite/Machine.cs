using System.Runtime.InteropServices;

namespace Tailor.Benchmarks;

/// <summary>A one-line description of the machine a figure was measured on.</summary>
public static class Machine
{
    /// <summary>
    /// Cores, memory, OS, runtime, whether methods are compiled in tiers (see docs/architecture.md,
    /// Runtime settings), and which zstd library decodes frames (the system's or the managed port).
    /// </summary>
    public static string Describe()
    {
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        using var zstd = new Tailor.Format.Zstd.ZstdFrameDecompressor();
        return $"{Environment.ProcessorCount} cores, {memory:F0} GiB, {RuntimeInformation.OSDescription.Trim()}, .NET {Environment.Version}, "
            + (TieredCompilation ? "tiered compilation" : "compiled once (tiered compilation off)")
            + (zstd.UsesSystemLibrary ? ", frames decoded by the system's libzstd" : ", frames decoded by the managed zstd port");
    }

    /// <summary>
    /// Whether the runtime compiles methods in tiers: the environment variable wins over the app's
    /// runtime configuration, as in the runtime itself; on unless either turns it off.
    /// </summary>
    public static bool TieredCompilation
    {
        get
        {
            var variable = Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") ?? Environment.GetEnvironmentVariable("COMPlus_TieredCompilation");
            if (variable is not null)
            {
                return variable.Trim() != "0";
            }

            return AppContext.GetData("System.Runtime.TieredCompilation") switch
            {
                bool on => on,
                string text when bool.TryParse(text, out var on) => on,
                _ => true,
            };
        }
    }
}
