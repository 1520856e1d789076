using Tailor.Storage;
using Tailor.Testing;

namespace Tailor.GameDays.Tests.CrashTrials;

/// <summary>An object s3rver holds from a put whose body never arrived whole.</summary>
/// <param name="Key">The store key.</param>
/// <param name="Bytes">The bytes s3rver kept.</param>
/// <param name="Writer">The worker whose writer id the key carries, or <c>unknown</c>.</param>
/// <param name="Killed">Whether that worker was killed (rather than stopped gracefully).</param>
internal sealed record TornPut(string Key, long Bytes, string Writer, bool Killed);

/// <summary>
/// Puts cut short by a SIGKILL, as s3rver keeps them. S3 creates an object only when its whole body has
/// arrived (a shorter body than <c>Content-Length</c> is refused); s3rver 3.7.1 streams the body straight
/// into the object's file and lists it, with the bytes that came, even when the client died half way.
/// It writes the object's metadata file only after the body ended, so an object file without one is a
/// put that never completed. The trial removes these before it reads the store, so it sees what S3 would hold.
/// </summary>
internal static class TornPuts
{
    private const string ObjectSuffix = "._S3rver_object";
    private const string MetadataSuffix = "._S3rver_metadata.json";

    /// <summary>Finds the torn puts of a bucket, deletes them from the store, and returns them.</summary>
    /// <param name="s3">The server.</param>
    /// <param name="bucket">The bucket.</param>
    /// <param name="store">A store on the bucket.</param>
    /// <param name="writers">Worker name by writer id (hex, as in keys), with whether it was killed.</param>
    public static async Task<List<TornPut>> RemoveAsync(S3rverFixture s3, string bucket, IObjectStore store, IReadOnlyDictionary<string, (string Name, bool Killed)> writers)
    {
        var root = Path.Combine(s3.DataDirectory, bucket);
        var torn = new List<TornPut>();
        foreach (var file in Directory.EnumerateFiles(root, "*" + ObjectSuffix, SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file);
            if (relative.StartsWith("._S3rver_uploads", StringComparison.Ordinal) || File.Exists(file[..^ObjectSuffix.Length] + MetadataSuffix))
            {
                continue;
            }

            var key = relative[..^ObjectSuffix.Length].Replace(Path.DirectorySeparatorChar, '/');
            var writer = ObjectKeys.TryParseSegment(key, out var segment) && writers.TryGetValue(ObjectKeys.FormatWriterId(segment.WriterId), out var w)
                ? w
                : ("unknown", false);
            torn.Add(new TornPut(key, new FileInfo(file).Length, writer.Item1, writer.Item2));
        }

        foreach (var put in torn)
        {
            await store.DeleteAsync(put.Key);
            if (await store.GetInfoAsync(put.Key) is not null)
            {
                throw new InvalidOperationException($"{put.Key}: a torn put is still in the store after its deletion.");
            }
        }

        return torn;
    }
}
