namespace Tailor.Query.AspNetCore;

/// <summary>How <see cref="TailorQueryEndpointRouteBuilderExtensions.MapTailorQuery"/> serves queries.</summary>
public sealed class TailorQueryOptions
{
    /// <summary>
    /// The key every <c>/api/v1/</c> call must send as <c>Authorization: Bearer KEY</c> (compared in constant
    /// time). Default: none, so the API is open; bind the server to loopback (the default of
    /// <c>tailor serve</c>) or set a key. The explorer page and <c>/healthz</c> stay open either way.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>How long one query may take before it fails with 422; it is also cancelled when the client goes away. Default: 30 seconds.</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Origins allowed to call the API from a browser page of theirs (CORS), such as
    /// <c>https://grafana.example.com</c>. Default: none, so CORS is off and only same-origin pages call it.
    /// </summary>
    public IList<string> CorsOrigins { get; } = [];

    /// <summary>The most windows one <c>/api/v1/windows</c> call lists before it answers 422. Default: 10,000.</summary>
    public int MaxWindowsListed { get; set; } = 10_000;
}
