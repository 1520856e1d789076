using Tailor.Storage;

namespace Tailor.Compaction;

/// <summary>
/// A planned job held against the window's current manifest, by key and size (never by modification
/// time or a local ETag, so a store copied with new times does not look changed): the inputs the
/// manifest lists that the store no longer holds, those it still holds outside the plan's hours, and
/// how many inputs are new or changed.
/// </summary>
/// <param name="Job">The job to run: the plan's inputs plus every input the manifest lists that the store still holds.</param>
/// <param name="Missing">Inputs the manifest lists that are gone from the store.</param>
/// <param name="Kept">Inputs the manifest lists that the plan did not find but the store still holds (added to <paramref name="Job"/>).</param>
/// <param name="Added">Inputs of the plan the manifest does not list.</param>
/// <param name="Changed">Inputs whose size differs from the manifest's.</param>
internal sealed record InputReconciliation(CompactionJob Job, IReadOnlyList<SegmentInput> Missing, IReadOnlyList<SegmentInput> Kept, int Added, int Changed)
{
    /// <summary>Whether the job reads exactly the inputs the manifest lists (by key and size).</summary>
    public bool SameInputs => Missing.Count == 0 && Added == 0 && Changed == 0;

    /// <summary>Holds a planned job against a manifest (none: every input is new).</summary>
    public static async Task<InputReconciliation> ReconcileAsync(IObjectStore store, CompactionManifest? manifest, CompactionJob job, CancellationToken cancellationToken)
    {
        if (manifest is null)
        {
            return new InputReconciliation(job, [], [], job.Inputs.Count, 0);
        }

        var planned = new Dictionary<string, SegmentInput>(StringComparer.Ordinal);
        foreach (var input in job.Inputs)
        {
            planned[input.Key] = input;
        }

        var listed = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<SegmentInput>();
        var kept = new List<SegmentInput>();
        var changed = 0;
        foreach (var input in manifest.Inputs)
        {
            if (!listed.Add(input.Key))
            {
                continue;
            }

            if (planned.TryGetValue(input.Key, out var now))
            {
                changed += now.Size == input.Size ? 0 : 1;
                continue;
            }

            // Not in the plan: gone, or outside the hours this plan lists (a smaller allowance than the manifest's run).
            if (await store.GetInfoAsync(input.Key, cancellationToken).ConfigureAwait(false) is { } info)
            {
                kept.Add(new SegmentInput(input.Key, info.Size, info.ETag));
                changed += info.Size == input.Size ? 0 : 1;
            }
            else
            {
                missing.Add(input);
            }
        }

        var added = job.Inputs.Count(i => !listed.Contains(i.Key));
        var run = kept.Count == 0 ? job : new CompactionJob(job.Shard, job.Window, job.Inputs.Concat(kept));
        return new InputReconciliation(run, missing, kept, added, changed);
    }
}
