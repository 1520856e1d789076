using System.Globalization;

namespace Tailor.Storage;

/// <summary>The kind of store a <see cref="StoreUri"/> names.</summary>
public enum StoreKind
{
    /// <summary>A local folder: <c>file:///path</c>.</summary>
    Local,

    /// <summary>An S3 bucket: <c>s3://bucket/prefix</c>.</summary>
    S3,
}

/// <summary>
/// A parsed store URI: <c>file:///path</c>, or <c>s3://bucket[/prefix][?endpoint=URL][&amp;region=R][&amp;conditional-create=true|false]</c>.
/// Credentials never appear in store URIs (S3 takes them from the AWS standard chain).
/// </summary>
public sealed record StoreUri
{
    private static readonly string[] S3Parameters = ["endpoint", "region", "conditional-create"];

    private StoreUri(StoreKind kind) => Kind = kind;

    /// <summary>Which kind of store.</summary>
    public StoreKind Kind { get; }

    /// <summary>The absolute folder path of a local store; <see langword="null"/> for S3.</summary>
    public string? LocalPath { get; private init; }

    /// <summary>The bucket of an S3 store; <see langword="null"/> for a local store.</summary>
    public string? Bucket { get; private init; }

    /// <summary>The key prefix of an S3 store, without slashes at either end (empty for the whole bucket).</summary>
    public string Prefix { get; private init; } = string.Empty;

    /// <summary>The <c>endpoint</c> parameter: an S3-compatible server; <see langword="null"/> for AWS.</summary>
    public Uri? Endpoint { get; private init; }

    /// <summary>The <c>region</c> parameter, if given.</summary>
    public string? Region { get; private init; }

    /// <summary>The <c>conditional-create</c> parameter (whether the server honours <c>If-None-Match: *</c>), if given.</summary>
    public bool? ConditionalCreate { get; private init; }

    /// <summary>Parses a store URI.</summary>
    /// <param name="uri">The URI.</param>
    /// <returns>The parsed URI.</returns>
    /// <exception cref="FormatException">The URI is malformed, names an unknown scheme or parameter, or carries credentials. The message says which and how to fix it.</exception>
    public static StoreUri Parse(string uri) =>
        TryParse(uri, out var parsed, out var error) ? parsed : throw new FormatException(error);

    /// <summary>Parses a store URI without throwing.</summary>
    /// <param name="uri">The URI.</param>
    /// <param name="result">The parsed URI, when it is valid.</param>
    /// <param name="error">Why it is not valid, when it is not.</param>
    /// <returns>Whether the URI is valid.</returns>
    public static bool TryParse(string? uri, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out StoreUri? result, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(uri))
        {
            error = "The store URI is empty: use file:///path or s3://bucket/prefix.";
            return false;
        }

        // Control and invisible formatting characters (bidi overrides among them) have no place in a store URI, and
        // System.Uri strips some of them and then trips (dotnet/runtime#1487: TryCreate throws IndexOutOfRangeException).
        foreach (var c in uri)
        {
            if (char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)
            {
                error = $"'{Redact(uri)}' holds the control or formatting character U+{(int)c:X4}: percent-encode it, or remove it.";
                return false;
            }
        }

        var schemeEnd = uri.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            error = $"'{Redact(uri)}' is not a store URI: it has no scheme (use file:///absolute/path or s3://bucket/prefix).";
            return false;
        }

        var scheme = uri[..schemeEnd].ToLowerInvariant();
        return scheme switch
        {
            "file" => TryParseFile(uri, out result, out error),
            "s3" => TryParseS3(uri, schemeEnd + 3, out result, out error),
            _ => Fail($"'{Redact(uri)}' is not a store URI: unknown scheme '{uri[..schemeEnd]}' (use file:///absolute/path or s3://bucket/prefix).", out error),
        };
    }

    /// <summary>The URI in canonical form, without credentials.</summary>
    /// <returns>E.g. <c>s3://bucket/prefix?endpoint=http://127.0.0.1:9000</c>.</returns>
    public override string ToString()
    {
        if (Kind == StoreKind.Local)
        {
            // Escaped name by name, as TryParse reads it back: new Uri(path) trims, reinterprets or drops some names
            // (a trailing space, a backslash), so it would print another folder.
            return LocalPath![0] == '/'
                ? "file://" + string.Join('/', LocalPath.Split('/').Select(Uri.EscapeDataString))
                : new Uri(LocalPath).AbsoluteUri;
        }

        // The prefix is escaped as TryParse unescapes it, so a prefix holding '?', '#', '%' or '@' prints as text that parses back.
        var text = Prefix.Length == 0 ? $"s3://{Bucket}" : $"s3://{Bucket}/{string.Join('/', Prefix.Split('/').Select(Uri.EscapeDataString))}";
        var parameters = new List<string>();
        if (Endpoint is not null)
        {
            // An '&' in the endpoint's path would split the parameters when parsed back.
            parameters.Add("endpoint=" + Endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/').Replace("&", "%26", StringComparison.Ordinal));
        }

        if (Region is not null)
        {
            parameters.Add("region=" + Region);
        }

        if (ConditionalCreate is { } conditional)
        {
            parameters.Add("conditional-create=" + (conditional ? "true" : "false"));
        }

        return parameters.Count == 0 ? text : text + "?" + string.Join('&', parameters);
    }

    private static bool TryParseFile(string uri, out StoreUri? result, out string? error)
    {
        result = null;
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || !parsed.IsFile)
        {
            return Fail($"'{Redact(uri)}' is not a valid file URI (use file:///absolute/path).", out error);
        }

        if (!string.IsNullOrEmpty(parsed.Host) && !parsed.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return Fail($"'{Redact(uri)}' names the host '{parsed.Host}': a local store must be on this machine (use file:///absolute/path, three slashes).", out error);
        }

        if (!string.IsNullOrEmpty(parsed.Query) || !string.IsNullOrEmpty(parsed.Fragment))
        {
            return Fail($"'{Redact(uri)}': a file store URI takes no parameters.", out error);
        }

        // With a "localhost" host, LocalPath reads as a UNC share; the path is what follows the host.
        var path = string.IsNullOrEmpty(parsed.Host) ? parsed.LocalPath : Uri.UnescapeDataString(parsed.AbsolutePath);
        if (!Path.IsPathFullyQualified(path))
        {
            return Fail($"'{Redact(uri)}' does not name an absolute folder (use file:///absolute/path).", out error);
        }

        // One spelling per folder, so the URI printed by ToString parses back to the same store: leading slashes
        // collapse (a path starting "//" prints as a host, or not at all) and every trailing separator goes.
        if (path.StartsWith("//", StringComparison.Ordinal))
        {
            path = "/" + path.TrimStart('/');
        }

        for (var trimmed = Path.TrimEndingDirectorySeparator(path); trimmed.Length < path.Length; trimmed = Path.TrimEndingDirectorySeparator(path))
        {
            path = trimmed;
        }

        result = new StoreUri(StoreKind.Local) { LocalPath = path };
        error = null;
        return true;
    }

    private static bool TryParseS3(string uri, int start, out StoreUri? result, out string? error)
    {
        result = null;
        var queryStart = uri.IndexOf('?', start);
        var location = queryStart < 0 ? uri[start..] : uri[start..queryStart];
        if (location.Contains('@', StringComparison.Ordinal))
        {
            return Fail($"'{Redact(uri)}': credentials do not belong in a store URI; S3 takes them from the AWS standard chain (environment, profile, role).", out error);
        }

        if (location.Contains('#', StringComparison.Ordinal))
        {
            return Fail($"'{Redact(uri)}': a store URI has no fragment ('#').", out error);
        }

        var slash = location.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? location : location[..slash];
        var prefix = slash < 0 ? string.Empty : Uri.UnescapeDataString(location[(slash + 1)..]).Trim('/');
        if (bucket.Length is < 3 or > 63 || !bucket.All(static c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-'))
        {
            return Fail($"'{Redact(uri)}': '{bucket}' is not a valid bucket name (3 to 63 lower-case letters, digits, dots and hyphens).", out error);
        }

        if (prefix.Length > 0 && ObjectKeyRules.Check(prefix) is { } problem)
        {
            return Fail($"'{Redact(uri)}': the prefix '{prefix}' is not acceptable: {problem}.", out error);
        }

        Uri? endpoint = null;
        string? region = null;
        bool? conditional = null;
        if (queryStart >= 0)
        {
            foreach (var pair in uri[(queryStart + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]).ToLowerInvariant();
                var value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..]);
                switch (name)
                {
                    case "endpoint":
                        if (!Uri.TryCreate(value, UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("http" or "https"))
                        {
                            return Fail($"'{Redact(uri)}': the endpoint must be an absolute http or https URL such as http://127.0.0.1:9000.", out error);
                        }

                        if (!string.IsNullOrEmpty(endpoint.UserInfo))
                        {
                            return Fail($"'{Redact(uri)}': credentials do not belong in the endpoint; S3 takes them from the AWS standard chain.", out error);
                        }

                        break;
                    case "region":
                        if (value.Length == 0 || !value.All(static c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
                        {
                            return Fail($"'{Redact(uri)}': '{value}' is not a region name such as eu-west-1.", out error);
                        }

                        region = value;
                        break;
                    case "conditional-create":
                        if (!bool.TryParse(value, out var flag))
                        {
                            return Fail($"'{Redact(uri)}': conditional-create must be true or false.", out error);
                        }

                        conditional = flag;
                        break;
                    default:
                        return Fail(
                            string.Create(CultureInfo.InvariantCulture, $"'{Redact(uri)}': unknown parameter '{name}' (known: {string.Join(", ", S3Parameters)})."),
                            out error);
                }
            }
        }

        result = new StoreUri(StoreKind.S3) { Bucket = bucket, Prefix = prefix, Endpoint = endpoint, Region = region, ConditionalCreate = conditional };
        error = null;
        return true;
    }

    /// <summary>The URI with anything that could be a secret masked: user info, and the values of parameters that are not ours.</summary>
    private static string Redact(string uri)
    {
        var text = uri;
        var queryStart = text.IndexOf('?', StringComparison.Ordinal);
        var location = queryStart < 0 ? text : text[..queryStart];
        var at = location.LastIndexOf('@');
        if (at >= 0)
        {
            var start = location.LastIndexOf("://", at, StringComparison.Ordinal);
            location = (start < 0 ? string.Empty : location[..(start + 3)]) + "***" + location[at..];
        }

        if (queryStart < 0)
        {
            return location;
        }

        var pairs = text[(queryStart + 1)..].Split('&');
        for (var i = 0; i < pairs.Length; i++)
        {
            var equals = pairs[i].IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pairs[i] : pairs[i][..equals];
            if (equals >= 0 && (!S3Parameters.Contains(name.ToLowerInvariant()) || pairs[i].Contains('@', StringComparison.Ordinal)))
            {
                pairs[i] = name + "=***";
            }
        }

        return location + "?" + string.Join('&', pairs);
    }

    private static bool Fail(string message, out string error)
    {
        error = message;
        return false;
    }
}
