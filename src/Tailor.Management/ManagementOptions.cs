namespace Tailor.Management;

/// <summary>Where a worker host serves <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>.</summary>
public sealed class ManagementOptions
{
    /// <summary>
    /// The addresses the management endpoints listen on, separated by <c>;</c>, for example
    /// <c>http://127.0.0.1:9464</c> or <c>http://0.0.0.0:9464</c> for a scraper on another machine (a port of
    /// 0 takes a free one; <see cref="ManagementServer.Addresses"/> tells which). Default: none, so a
    /// library host serves nothing until it sets one; the sample hosts and the <c>tailor</c> commands set one.
    /// </summary>
    public string? Urls { get; set; }

    /// <summary>How long one readiness check may take before <c>/readyz</c> reports it as failed. Default: 5 seconds.</summary>
    public TimeSpan ReadinessTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
