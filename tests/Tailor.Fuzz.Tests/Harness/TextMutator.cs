using System.Text;
using System.Text.Json.Nodes;

namespace Tailor.Fuzz.Tests.Harness;

/// <summary>
/// Mutations of text inputs (URIs, windows, JSON): tokens of the grammar planted, replaced and deleted,
/// numbers swapped for boundary values, odd characters (NUL, lone surrogates, non-ASCII digits),
/// repetition, truncation and splicing; and for JSON, mutations of the parsed tree (values of the
/// wrong type, deleted and renamed properties, deep nesting) before it is written back as text.
/// </summary>
public static class TextMutator
{
    private static readonly string[] OddCharacters =
    [
        "\0", "\u00e9", "\ud800", "\udc00", "\uffff", "\ufeff", " ", "\t", "\n", "%", "/", "\\", "@", "#", "?", "&", "=", ":", ".", "\"", "{", "}", "[",
        "]", ",", "-", "+", "Z", "\u0663", "\uff11", "\u202e", "..", "%00", "%zz", "%2F", "%C0%AF", "%",
    ];

    private static readonly string[] Numbers =
    [
        "0", "-1", "1", "-0", "1.5", "1e3", "1e400", "-1e400", "0x10", "007", "2147483647", "2147483648", "-2147483648", "4294967295", "4294967296",
        "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616", "99999999999999999999999999",
        "1048576", "1048577", "10675199", "10675200", "256204778", "256204779", "15372286728", "366", "367", "525600", "527041", "\u0663",
    ];

    private static readonly string[] JsonNumbers = [.. Numbers.Where(n => n.Length > 0 && (char.IsAsciiDigit(n[0]) || n[0] == '-') && !n.Contains('x', StringComparison.Ordinal) && !n.StartsWith("00", StringComparison.Ordinal))];

    public static string Mutate(FuzzRandom random, string seed, IReadOnlyList<string> tokens, string? splice, List<string> log, int maxMutations = 4)
    {
        var text = new StringBuilder(seed);
        var count = random.NextCount(maxMutations);
        for (var m = 0; m < count; m++)
        {
            var at = random.Next(text.Length + 1);
            switch (random.Next(12))
            {
                case 0:
                case 1:
                    text.Insert(at, random.Pick(tokens));
                    log.Add("insert token");
                    break;
                case 2:
                    {
                        var n = Math.Min(random.NextCount(8), text.Length - at);
                        text.Remove(at, n).Insert(at, random.Pick(tokens));
                        log.Add("replace with token");
                        break;
                    }

                case 3:
                    text.Remove(at, Math.Min(random.NextCount(12), text.Length - at));
                    log.Add("delete");
                    break;
                case 4:
                    text.Insert(at, random.Pick(OddCharacters));
                    log.Add("odd character");
                    break;
                case 5:
                    ReplaceNumber(random, text, log);
                    break;
                case 6:
                    if (at < text.Length)
                    {
                        text[at] = char.IsUpper(text[at]) ? char.ToLowerInvariant(text[at]) : char.ToUpperInvariant(text[at]);
                        log.Add("case");
                    }

                    break;
                case 7:
                    {
                        var n = Math.Min(random.NextCount(16), text.Length - at);
                        var piece = text.ToString(at, n);
                        var times = random.OneIn(8) ? random.Next(100, 3000) : random.Next(1, 4);
                        for (var i = 0; i < times && text.Length < 200_000; i++)
                        {
                            text.Insert(at, piece);
                        }

                        log.Add($"repeat x{times}");
                        break;
                    }

                case 8:
                    text.Length = at;
                    log.Add("truncate");
                    break;
                case 9 when splice is not null:
                    text.Length = at;
                    text.Append(splice.AsSpan(random.Next(splice.Length + 1)));
                    log.Add("splice");
                    break;
                default:
                    if (at < text.Length)
                    {
                        text[at] = (char)random.Next(0x20, 0x7F);
                        log.Add("char");
                    }

                    break;
            }
        }

        return text.ToString();
    }

    private static void ReplaceNumber(FuzzRandom random, StringBuilder text, List<string> log)
    {
        var digits = new List<int>();
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsAsciiDigit(text[i]) && (i == 0 || !char.IsAsciiDigit(text[i - 1])))
            {
                digits.Add(i);
            }
        }

        var number = random.Pick(Numbers);
        if (digits.Count == 0)
        {
            text.Insert(random.Next(text.Length + 1), number);
        }
        else
        {
            var start = random.Pick(digits);
            var end = start;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            text.Remove(start, end - start).Insert(start, number);
        }

        log.Add($"number {number}");
    }

    /// <summary>Mutates a parsed JSON document: wrong types, nulls, deleted and renamed properties, deep nesting.</summary>
    public static string MutateJson(FuzzRandom random, string json, IReadOnlyList<string> names, List<string> log)
    {
        var root = JsonNode.Parse(json, documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true })!;
        var count = random.NextCount(4);
        for (var m = 0; m < count; m++)
        {
            var nodes = new List<JsonNode>();
            Collect(root, nodes);
            var node = random.Pick(nodes);
            var parent = node.Parent;
            switch (random.Next(6))
            {
                case 0 when parent is JsonObject obj:
                    obj.Remove(node.GetPropertyName());
                    log.Add("json delete");
                    break;
                case 1 when parent is JsonObject obj:
                    {
                        var name = node.GetPropertyName();
                        obj.Remove(name);
                        var renamed = random.NextBool() ? random.Pick(names) : random.NextBool() ? name.ToUpperInvariant() : name + "x";
                        obj[renamed] = node;
                        log.Add("json rename");
                        break;
                    }

                case 2 when node is JsonObject target:
                    target[random.Pick(names) + (random.OneIn(3) ? "2" : string.Empty)] = RandomValue(random);
                    log.Add("json add");
                    break;
                default:
                    if (parent is null)
                    {
                        root = RandomValue(random);
                    }
                    else
                    {
                        node.ReplaceWith(RandomValue(random));
                    }

                    log.Add("json replace");
                    break;
            }
        }

        return root.ToJsonString();
    }

    private static void Collect(JsonNode? node, List<JsonNode> into)
    {
        if (node is null)
        {
            return;
        }

        into.Add(node);
        switch (node)
        {
            case JsonObject obj:
                foreach (var pair in obj)
                {
                    Collect(pair.Value, into);
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Collect(item, into);
                }

                break;
        }
    }

    private static JsonNode RandomValue(FuzzRandom random) => random.Next(9) switch
    {
        0 => JsonValue.Create("text"),
        1 => JsonValue.Create(string.Empty),
        2 => JsonValue.Create(random.NextBool()),
        3 => new JsonArray(JsonNode.Parse(random.Pick(JsonNumbers))),
        4 => new JsonObject(),
        5 => Nest(random.Next(2, 80)),
        6 => JsonValue.Create(new string('x', random.Next(1, 5000))),
        _ => JsonNode.Parse(random.Pick(JsonNumbers))!,
    };

    private static JsonNode Nest(int depth)
    {
        JsonNode node = new JsonArray();
        for (var i = 1; i < depth; i++)
        {
            node = new JsonArray(node);
        }

        return node;
    }
}
