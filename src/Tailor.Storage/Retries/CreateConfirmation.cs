using System.Buffers;

namespace Tailor.Storage;

/// <summary>
/// Settles a conditional create whose earlier attempt lost its answer: when a retry finds the key taken,
/// the object is compared with the content we were writing.
/// </summary>
internal static class CreateConfirmation
{
    private const int ChunkSize = 1 << 20;

    /// <summary>Whether the object stored under <paramref name="key"/> is byte-identical to <paramref name="content"/>.</summary>
    public static async Task<bool> HoldsAsync(
        Func<string, CancellationToken, Task<ObjectInfo?>> getInfo,
        Func<string, long, Memory<byte>, CancellationToken, Task<int>> read,
        string key,
        ReadOnlyMemory<byte> content,
        CancellationToken cancellationToken)
    {
        var info = await getInfo(key, cancellationToken).ConfigureAwait(false);
        if (info is null || info.Size != content.Length)
        {
            return false;
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(ChunkSize, Math.Max(1, content.Length)));
        try
        {
            for (var offset = 0; offset < content.Length;)
            {
                var want = Math.Min(buffer.Length, content.Length - offset);
                var n = await read(key, offset, buffer.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
                if (n != want || !buffer.AsSpan(0, n).SequenceEqual(content.Span.Slice(offset, n)))
                {
                    return false;
                }

                offset += n;
            }

            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
