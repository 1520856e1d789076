using Tailor.Storage;

namespace Tailor.Query.AspNetCore;

/// <summary>The store the endpoints list windows of (the engine does not expose its own).</summary>
internal sealed record QueryStore(IObjectStore Store);
