namespace Tailor.Query.Reading;

/// <summary>
/// A least-recently-used cache of manifests, S-file tails and decoded index pages under one byte budget.
/// Entries may carry an expiry (manifests do: a window can be recompacted). Thread-safe.
/// </summary>
internal sealed class QueryCache
{
    private readonly long _capacity;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Item>> _items = new(StringComparer.Ordinal);
    private readonly LinkedList<Item> _order = new();
    private long _bytes;

    public QueryCache(long capacity)
    {
        _capacity = capacity;
    }

    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    public bool TryGet<T>(string key, DateTimeOffset now, out T value)
        where T : class
    {
        lock (_lock)
        {
            if (_items.TryGetValue(key, out var node))
            {
                if (node.Value.Expires is { } expires && expires <= now)
                {
                    RemoveNode(node);
                }
                else if (node.Value.Value is T found)
                {
                    _order.Remove(node);
                    _order.AddFirst(node);
                    value = found;
                    return true;
                }
            }
        }

        value = null!;
        return false;
    }

    public void Set(string key, object value, long size, DateTimeOffset? expires = null)
    {
        if (size > _capacity)
        {
            return;
        }

        lock (_lock)
        {
            if (_items.TryGetValue(key, out var old))
            {
                RemoveNode(old);
            }

            var node = _order.AddFirst(new Item(key, value, size, expires));
            _items[key] = node;
            _bytes += size;
            while (_bytes > _capacity && _order.Last is { } last)
            {
                RemoveNode(last);
            }
        }
    }

    public void Remove(string key)
    {
        lock (_lock)
        {
            if (_items.TryGetValue(key, out var node))
            {
                RemoveNode(node);
            }
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _items.Clear();
            _order.Clear();
            _bytes = 0;
        }
    }

    private void RemoveNode(LinkedListNode<Item> node)
    {
        _order.Remove(node);
        _items.Remove(node.Value.Key);
        _bytes -= node.Value.Size;
    }

    private sealed record Item(string Key, object Value, long Size, DateTimeOffset? Expires);
}
