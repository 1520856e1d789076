using Microsoft.Extensions.Diagnostics.HealthChecks;
using Tailor.Storage;

namespace Tailor.Management;

/// <summary>
/// Ready when the object store answers: one listing of a small prefix (<c>_erasures/</c>) succeeds.
/// Not ready while there is no store yet (the worker has not opened it) or when the store fails.
/// </summary>
/// <param name="store">The store in use now, or <see langword="null"/> while there is none.</param>
public sealed class StoreReadinessCheck(Func<IObjectStore?> store) : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var current = store();
        if (current is null)
        {
            return HealthCheckResult.Unhealthy("No store is open yet.");
        }

        try
        {
            await foreach (var unused in current.ListAsync("_erasures/", cancellationToken).ConfigureAwait(false))
            {
                break;
            }

            return HealthCheckResult.Healthy($"{current.Name} answers.");
        }
        catch (Exception e) when (e is ObjectStoreException or IOException or UnauthorizedAccessException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"{current.Name} does not answer: {e.Message}");
        }
    }
}
