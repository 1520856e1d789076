using System.Runtime.InteropServices;

namespace Tailor.Benchmarks;

/// <summary>A one-line description of the machine a figure was measured on.</summary>
public static class Machine
{
    /// <summary>Cores, memory, OS and runtime.</summary>
    public static string Describe()
    {
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{Environment.ProcessorCount} cores, {memory:F0} GiB, {RuntimeInformation.OSDescription.Trim()}, .NET {Environment.Version}";
    }
}
