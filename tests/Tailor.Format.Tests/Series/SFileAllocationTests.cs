using System.Buffers;
using Tailor.Format.Series;
using Tailor.Format.Workload;

namespace Tailor.Format.Tests.Series;

[Collection(SFileTestCollection.Name)]
public sealed class SFileAllocationTests
{
    private static readonly SeriesCorpus Corpus = SeriesCorpus.Generate(SeriesMix.Default, 17, 500);

    private static readonly byte[][] Metadata = Enumerable.Range(0, 500).Select(TestSFiles.Metadata).ToArray();

    private static void WriteSeries(SFileWriter writer, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            var c = i % Corpus.SeriesCount;
            writer.AddSeries(new SeriesKey(1 + (uint)(i / 5000), 42, (ulong)i), Metadata[c], Corpus.GetTimestamps(c), Corpus.GetValues(c));
        }
    }

    [Fact]
    public void Adding_series_allocates_nothing_in_steady_state()
    {
        const int Series = 20_000;
        var pool = new RecyclingPool();
        var sink = new DiscardingBufferWriter();

        // A first file on this thread sizes the codec's scratch memory and fills the pool with the writer's buffers.
        using (var warmup = new SFileWriter(sink, new SFileWriterOptions { BufferPool = pool }))
        {
            WriteSeries(warmup, 0, Series);
            warmup.Complete();
        }

        Assert.Equal(0, pool.Outstanding);
        using var writer = new SFileWriter(sink, new SFileWriterOptions { BufferPool = pool });
        WriteSeries(writer, 0, 100);
        var before = GC.GetAllocatedBytesForCurrentThread();
        WriteSeries(writer, 100, Series);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated over {Series - 100} series ({writer.PointCount:N0} points)");
        var footer = writer.Complete();
        Assert.True(footer.PageCount > 10);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Every_rented_buffer_is_returned_by_complete_or_dispose()
    {
        var pool = new RecyclingPool();
        using (var writer = new SFileWriter(new DiscardingBufferWriter(), new SFileWriterOptions { BufferPool = pool, IndexPageTargetBytes = 2048 }))
        {
            WriteSeries(writer, 0, 300);
            Assert.True(pool.Outstanding > 0);
        }

        Assert.Equal(0, pool.Outstanding); // disposed without completing

        var completed = new SFileWriter(new DiscardingBufferWriter(), new SFileWriterOptions { BufferPool = pool });
        WriteSeries(completed, 0, 300);
        completed.Complete();
        Assert.Equal(0, pool.Outstanding);
        completed.Dispose();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Scanning_and_decoding_allocate_nothing_per_series()
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new SFileWriter(output))
        {
            WriteSeries(writer, 0, 3000);
            writer.Complete();
        }

        var file = output.WrittenMemory;
        var ts = new long[Corpus.MaxSeriesPointCount];
        var vs = new double[Corpus.MaxSeriesPointCount];
        long Scan()
        {
            var scanner = new SFileScanner(file.Span);
            try
            {
                Assert.True(scanner.MoveNext());
                scanner.ReadPoints(ts, vs);
                var before = GC.GetAllocatedBytesForCurrentThread();
                long points = 0;
                while (scanner.MoveNext())
                {
                    points += scanner.ReadPoints(ts, vs);
                    points += scanner.Metadata.Length > 0 ? 0 : 1; // metadata is a view, no copy
                }

                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.Equal(3000, scanner.SeriesRead);
                Assert.Equal((Corpus.PointCount * 6) - Corpus.GetTimestamps(0).Length, points);
                return allocated;
            }
            finally
            {
                scanner.Dispose();
            }
        }

        Scan(); // first use on this thread creates the codec's scratch memory
        var allocated = Scan();
        Assert.True(allocated == 0, $"{allocated} bytes allocated scanning 2,999 series");
    }

    /// <summary>An IBufferWriter that keeps one buffer and forgets what is written.</summary>
    private sealed class DiscardingBufferWriter : IBufferWriter<byte>
    {
        private byte[] _buffer = new byte[1 << 20];

        public void Advance(int count)
        {
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            if (_buffer.Length < sizeHint)
            {
                _buffer = new byte[sizeHint];
            }

            return _buffer;
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }

    /// <summary>A pool that keeps every returned array for reuse and counts what is out.</summary>
    private sealed class RecyclingPool : ArrayPool<byte>
    {
        private readonly List<byte[]> _free = new(4096);

        public int Outstanding { get; private set; }

        public override byte[] Rent(int minimumLength)
        {
            Outstanding++;
            var best = -1;
            for (var i = 0; i < _free.Count; i++)
            {
                if (_free[i].Length >= minimumLength && (best < 0 || _free[i].Length < _free[best].Length))
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                return new byte[minimumLength];
            }

            var array = _free[best];
            _free.RemoveAt(best);
            return array;
        }

        public override void Return(byte[] array, bool clearArray = false)
        {
            Outstanding--;
            _free.Add(array);
        }
    }
}
