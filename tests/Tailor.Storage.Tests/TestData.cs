using System.Security.Cryptography;
using System.Text;

namespace Tailor.Storage.Tests;

internal static class TestData
{
    public const int MiB = 1024 * 1024;

    /// <summary>Deterministic pseudo-random bytes: a failing test reproduces with the same content.</summary>
    public static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static async Task<byte[]> ReadAllAsync(IObjectStore store, string key, long offset = 0, long? length = null)
    {
        await using var stream = await store.OpenReadAsync(key, offset, length);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    public static async Task<List<ObjectInfo>> ListAllAsync(IObjectStore store, string prefix = "")
    {
        var items = new List<ObjectInfo>();
        await foreach (var item in store.ListAsync(prefix))
        {
            items.Add(item);
        }

        return items;
    }

    /// <summary>Writes content through a streamed upload in uneven pieces, so part boundaries fall mid-write.</summary>
    public static async Task<ObjectInfo> UploadAsync(IObjectStore store, string key, byte[] content, int seed = 1)
    {
        await using var upload = await store.StartUploadAsync(key);
        var random = new Random(seed);
        for (var offset = 0; offset < content.Length;)
        {
            var n = Math.Min(content.Length - offset, random.Next(1, 3 * MiB));
            await upload.WriteAsync(content.AsMemory(offset, n));
            offset += n;
        }

        return await upload.CompleteAsync();
    }

    public static string Hash(ReadOnlySpan<byte> data) => Convert.ToHexString(SHA256.HashData(data));
}
