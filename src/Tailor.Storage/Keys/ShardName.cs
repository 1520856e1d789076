using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Tailor.Storage;

/// <summary>
/// The name of a shard as it appears in object keys: <c>org-mod-K</c> for the shared shard of the orgs
/// whose id is K modulo the shard count, or <c>org-&lt;id&gt;</c> for an org's dedicated shard. Numbers
/// are canonical decimals (no sign, no leading zeros), so a name has exactly one spelling.
/// </summary>
public readonly record struct ShardName
{
    private const string SharedPrefix = "org-mod-";
    private const string DedicatedPrefix = "org-";
    private readonly string? _value;

    private ShardName(string value, bool isDedicated, uint number)
    {
        _value = value;
        IsDedicated = isDedicated;
        Number = number;
    }

    /// <summary>The name, e.g. <c>org-mod-7</c> or <c>org-123456</c>; empty for <c>default</c>.</summary>
    public string Value => _value ?? string.Empty;

    /// <summary>Whether this is an org's dedicated shard (<c>org-&lt;id&gt;</c>).</summary>
    public bool IsDedicated { get; }

    /// <summary>K of a shared shard <c>org-mod-K</c>, or the org id of a dedicated shard.</summary>
    public uint Number { get; }

    /// <summary>Whether this is <c>default(ShardName)</c>, which names no shard.</summary>
    public bool IsEmpty => _value is null;

    /// <summary>The shared shard <c>org-mod-K</c>.</summary>
    /// <param name="index">K: the org id modulo the shard count.</param>
    /// <returns>The shard name.</returns>
    public static ShardName Shared(uint index) => new(SharedPrefix + index.ToString(CultureInfo.InvariantCulture), false, index);

    /// <summary>The dedicated shard <c>org-&lt;id&gt;</c> of one org.</summary>
    /// <param name="orgId">The org id.</param>
    /// <returns>The shard name.</returns>
    public static ShardName Dedicated(uint orgId) => new(DedicatedPrefix + orgId.ToString(CultureInfo.InvariantCulture), true, orgId);

    /// <summary>Parses a shard name.</summary>
    /// <param name="text">The name.</param>
    /// <returns>The shard name.</returns>
    /// <exception cref="FormatException">The text is not <c>org-mod-K</c> or <c>org-&lt;id&gt;</c> with canonical decimal numbers.</exception>
    public static ShardName Parse(string text) =>
        TryParse(text, out var shard) ? shard : throw new FormatException($"'{text}' is not a shard name (org-mod-K or org-<id>, canonical decimal numbers).");

    /// <summary>Parses a shard name without throwing.</summary>
    /// <param name="text">The name.</param>
    /// <param name="shard">The shard name, when valid.</param>
    /// <returns>Whether <paramref name="text"/> is a valid shard name.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out ShardName shard)
    {
        shard = default;
        if (text is null)
        {
            return false;
        }

        if (text.StartsWith(SharedPrefix, StringComparison.Ordinal))
        {
            if (TryParseCanonical(text.AsSpan(SharedPrefix.Length), out var index))
            {
                shard = Shared(index);
                return true;
            }

            return false;
        }

        if (text.StartsWith(DedicatedPrefix, StringComparison.Ordinal) && TryParseCanonical(text.AsSpan(DedicatedPrefix.Length), out var org))
        {
            shard = Dedicated(org);
            return true;
        }

        return false;
    }

    /// <summary>The name.</summary>
    /// <returns><see cref="Value"/>.</returns>
    public override string ToString() => Value;

    private static bool TryParseCanonical(ReadOnlySpan<char> digits, out uint value)
    {
        value = 0;
        return digits.Length is > 0 and <= 10 && (digits[0] != '0' || digits.Length == 1) &&
            uint.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
