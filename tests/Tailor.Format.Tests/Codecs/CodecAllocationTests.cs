using Tailor.Format.Tests.Support;
using Tailor.Format.Workload;

namespace Tailor.Format.Tests.Codecs;

// Alone: codec scratch comes from a process-wide pool, and a test on another thread holding scratch
// made this thread's encoder rent a fresh one mid-measurement (10 KB counted once in CI).
[Collection(SequentialCollection.Name)]
public class CodecAllocationTests
{
    [Fact]
    public void Encode_and_decode_allocate_nothing_in_steady_state()
    {
        var corpus = SeriesCorpus.Generate(SeriesMix.Default, 5, 200);
        int max = corpus.MaxSeriesPointCount;
        var ts = new long[max];
        var vs = new double[max];
        foreach (var codec in CodecTestData.AllCodecs)
        {
            var buffer = new byte[codec.GetMaxEncodedLength(max)];
            void RunAll()
            {
                for (int i = 0; i < corpus.SeriesCount; i++)
                {
                    int written = codec.Encode(corpus.GetTimestamps(i), corpus.GetValues(i), buffer);
                    codec.Decode(buffer.AsSpan(0, written), ts, vs, out _, out _);
                    codec.ReadPointCount(buffer, out _);
                }
            }

            RunAll(); // first use on this thread creates the scratch memory
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int round = 0; round < 5; round++)
            {
                RunAll();
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated == 0, $"{codec.Name} allocated {allocated} bytes over {5 * corpus.SeriesCount} encode/decode pairs");
        }
    }
}
