using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.GameDays.Tests.Kit;

/// <summary>Helpers over several sink worker processes of one group.</summary>
internal static class SinkGroup
{
    /// <summary>Waits until the workers' own lines say that together they own all <paramref name="partitions"/> partitions and each owns at least one.</summary>
    public static Task WaitForOwnersAsync(IReadOnlyList<SinkWorkerProcess> workers, int partitions, int fromLine = 0) =>
        Waiting.UntilAsync(
            () =>
            {
                if (workers.FirstOrDefault(w => w.Process.HasExited) is { } gone)
                {
                    throw new InvalidOperationException($"{gone.Name} exited while the group formed: {gone.Process.Describe()}");
                }

                var owned = workers.Select(w => w.Owned(fromLine)).ToList();
                return owned.All(o => o.Count > 0) && owned.SelectMany(o => o).Distinct().Count() == partitions;
            },
            GameDaySettings.Timeout,
            $"{workers.Count} workers to own the {partitions} partitions",
            () => string.Join("\n", workers.Select(w => $"{w.Name} owns [{string.Join(' ', w.Owned(fromLine).Order())}]\n{w.Process.Describe()}")));

    /// <summary>Segment keys in a store written by any of <paramref name="writers"/> (hex writer ids).</summary>
    public static async Task<int> SegmentsByAsync(IObjectStore store, IReadOnlyCollection<string> writers)
    {
        var count = 0;
        await foreach (var info in store.ListAsync(ObjectKeys.SegmentsRoot))
        {
            if (ObjectKeys.TryParseSegment(info.Key, out var key) && writers.Contains(ObjectKeys.FormatWriterId(key.WriterId)))
            {
                count++;
            }
        }

        return count;
    }
}
