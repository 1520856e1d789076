using System.Text;
using System.Text.Json;
using Tailor.Sink.Segments;
using Tailor.Storage;

namespace Tailor.Sink;

/// <summary>
/// Writes a message that cannot go into a segment to the store's dead-letter area, keyed by its
/// coordinates: <c>deadletter/&lt;topic&gt;/&lt;partition&gt;/&lt;offset&gt;.bin</c>. The object is one line of
/// JSON (reason, coordinates, timestamp, key as hex) followed by a newline and the value bytes as
/// received.
/// </summary>
internal static class DeadLetterWriter
{
    public static DurabilityTicket Write(IObjectStore store, in SourceMessage message, string reason, Action<Task> track)
    {
        var key = ObjectKeys.DeadLetter(message.Partition.Topic, message.Partition.Partition, message.Offset);
        var ticket = new DurabilityTicket(key);
        var header = JsonSerializer.SerializeToUtf8Bytes(new
        {
            reason,
            topic = message.Partition.Topic,
            partition = message.Partition.Partition,
            offset = message.Offset,
            timestamp = message.Timestamp,
            key = message.Key is { } k ? Convert.ToHexStringLower(k.Span) : null,
            valueLength = message.Value.Length,
        });
        var content = new byte[header.Length + 1 + message.Value.Length];
        header.CopyTo(content, 0);
        content[header.Length] = (byte)'\n';
        message.Value.Span.CopyTo(content.AsSpan(header.Length + 1));
        track(PutAsync(store, key, content, ticket));
        return ticket;
    }

    private static async Task PutAsync(IObjectStore store, string key, byte[] content, DurabilityTicket ticket)
    {
        try
        {
            await store.PutAsync(key, content).ConfigureAwait(false);
            ticket.SetDurable();
        }
        catch (Exception e)
        {
            ticket.SetFailed(e);
            throw; // the engine sees the failed task and re-reads from the last commit
        }
    }

    /// <summary>Reads the JSON header line of a dead-letter object.</summary>
    public static JsonDocument ReadHeader(ReadOnlySpan<byte> content)
    {
        var newline = content.IndexOf((byte)'\n');
        return JsonDocument.Parse(Encoding.UTF8.GetString(newline < 0 ? content : content[..newline]));
    }
}
