using Tailor.Compaction.Reading;

namespace Tailor.Compaction.Tests;

public sealed class SeriesTableTests
{
    /// <summary>
    /// The lookup that tries the series that followed last time gives the same ids as the plain one,
    /// whether the payloads repeat their order, reorder it, drop series or bring new ones.
    /// </summary>
    [Fact]
    public void Looking_up_after_the_previous_series_gives_the_ids_of_the_plain_lookup()
    {
        var random = new Random(42);
        using var predicted = new SeriesTable();
        using var plain = new SeriesTable();
        var keys = Enumerable.Range(0, 5000).Select(i => new CompactKey((uint)(i % 7), (ulong)(i * 31), (ulong)i)).ToArray();
        var order = Enumerable.Range(0, 400).ToArray();
        var hits = 0;
        var lookups = 0;
        for (var payload = 0; payload < 300; payload++)
        {
            if (payload % 10 == 9)
            {
                random.Shuffle(order); // an agent restarts and sends its series in another order
            }

            var previous = -1;
            var start = random.Next(0, 50);
            foreach (var index in order.Skip(start).Where(_ => random.Next(20) != 0).Append(random.Next(keys.Length)))
            {
                var key = keys[(index + (payload / 100 * 400)) % keys.Length];
                var expectedNext = previous >= 0 ? predicted[previous].Next : -1;
                var id = predicted.GetOrAddAfter(key, previous);
                Assert.Equal(plain.GetOrAdd(key), id);
                Assert.Equal(key, predicted[id].Key);
                hits += expectedNext == id ? 1 : 0;
                lookups++;
                previous = id;
            }
        }

        Assert.Equal(plain.Count, predicted.Count);
        Assert.True(hits > lookups / 2, $"only {hits} of {lookups} lookups were predicted: the test does not exercise the prediction");
    }
}
