using System.Text;

namespace Tailor.Storage;

/// <summary>The key rules every store enforces, and the order listings use.</summary>
/// <remarks>
/// A key is 1 to 1,024 UTF-8 bytes of segments separated by <c>/</c>; no segment is empty (no leading,
/// trailing or doubled <c>/</c>) or <c>.</c> or <c>..</c>, and no character is a backslash, a control
/// character or an unpaired surrogate. Such keys mean the same thing to S3 and to a file system and
/// cannot name anything outside a store's root.
/// </remarks>
public static class ObjectKeyRules
{
    /// <summary>The longest key S3 accepts, in UTF-8 bytes: 1,024.</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>The order listings return keys in: ordinal over the keys' UTF-8 bytes, as S3 lists them.</summary>
    public static IComparer<string> Comparer => Utf8KeyComparer.Instance;

    /// <summary>Says why <paramref name="key"/> is not an acceptable object key.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The reason, e.g. <c>the key has a '..' segment</c>; <see langword="null"/> when the key is acceptable.</returns>
    public static string? Check(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return "the key is empty";
        }

        return CheckPath(key, allowTrailingSlash: false);
    }

    /// <summary>Says why <paramref name="prefix"/> is not an acceptable listing prefix (empty is, and so is a trailing <c>/</c>).</summary>
    /// <param name="prefix">The prefix.</param>
    /// <returns>The reason; <see langword="null"/> when the prefix is acceptable.</returns>
    public static string? CheckPrefix(string? prefix)
    {
        if (prefix is null)
        {
            return "the prefix is null";
        }

        return prefix.Length == 0 ? null : CheckPath(prefix, allowTrailingSlash: true);
    }

    private static string? CheckPath(string path, bool allowTrailingSlash)
    {
        if (Encoding.UTF8.GetByteCount(path) > MaxKeyBytes)
        {
            return $"the key is longer than {MaxKeyBytes} UTF-8 bytes";
        }

        var segmentStart = 0;
        for (var i = 0; i <= path.Length; i++)
        {
            if (i < path.Length)
            {
                var c = path[i];
                if (c == '\\')
                {
                    return "the key contains a backslash";
                }

                if (char.IsControl(c))
                {
                    return $"the key contains the control character U+{(int)c:X4}";
                }

                if (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < path.Length && char.IsLowSurrogate(path[i + 1])) &&
                    !(char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(path[i - 1])))
                {
                    return "the key contains an unpaired surrogate";
                }

                if (c != '/')
                {
                    continue;
                }
            }

            var length = i - segmentStart;
            if (length == 0)
            {
                if (i == path.Length && allowTrailingSlash && i > 0)
                {
                    break;
                }

                return segmentStart == 0 ? "the key starts with '/' (absolute paths are not keys)" : "the key has an empty segment ('//' or a trailing '/')";
            }

            if (length <= 2 && path.AsSpan(segmentStart, length) is "." or "..")
            {
                return $"the key has a '{path.Substring(segmentStart, length)}' segment";
            }

            segmentStart = i + 1;
        }

        return null;
    }
}

/// <summary>Orders keys by their UTF-8 bytes, as S3 lists them (ordinal UTF-16 order differs only around surrogates).</summary>
internal sealed class Utf8KeyComparer : IComparer<string>
{
    public static readonly Utf8KeyComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        var length = Math.Min(x.Length, y.Length);
        for (var i = 0; i < length; i++)
        {
            var a = x[i];
            var b = y[i];
            if (a != b)
            {
                return Fix(a) - Fix(b);
            }
        }

        return x.Length - y.Length;
    }

    // Code point order of UTF-16 units: surrogates (D800-DFFF) sort after U+E000-U+FFFF.
    private static int Fix(char c) => c >= 0xD800 ? (c >= 0xE000 ? c - 0x800 : c + 0x2000) : c;
}
