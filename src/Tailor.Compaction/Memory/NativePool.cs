using System.Numerics;
using System.Runtime.InteropServices;

namespace Tailor.Compaction.Memory;

/// <summary>
/// Keeps the native blocks of <see cref="NativeBuffer{T}"/> for reuse while compaction jobs run and
/// for a while after the last one, so a job's buffers, and a worker's next job, reuse memory that is
/// already resident instead of asking the system for fresh pages.
/// </summary>
/// <remarks>
/// A page the process touches for the first time costs a page fault and a zeroed page, and the
/// allocator hands large blocks back to the system when they are freed: every job, and every buffer
/// that grew, paid that again for each page it wrote (on a virtual machine, over ten microseconds a
/// page). Blocks come in sizes of 2^k and 3 x 2^(k-2) bytes, at most half again what was asked, so a
/// buffer that grows by half finds the sizes it passes through again. Blocks of at most
/// <see cref="MinPooledBytes"/> go straight to the allocator, which reuses small blocks well.
/// The blocks in use and the idle ones together stay within a quarter more than the larger of the
/// largest memory budget of the jobs running (or of the last job, while its blocks are kept) and the
/// most the jobs have had in use at once (<see cref="RetainBytes"/>): a block given back past that is
/// freed. Once no job has run for the retention time, every idle block is freed.
/// Thread-safe.
/// </remarks>
internal sealed unsafe class NativePool
{
    /// <summary>Blocks of at most this size are not pooled.</summary>
    public const long MinPooledBytes = 64 << 10;

    private readonly Lock _gate = new();
    private readonly Dictionary<long, Stack<nint>> _idle = [];
    private readonly Timer _release;
    private readonly TimeSpan _retainFor;
    private long _idleBytes;
    private long _inUseBytes;
    private long _budgetBytes;
    private long _peakInUseBytes;
    private long _freshBytes;
    private int _jobs;

    /// <summary>A pool whose idle blocks are freed <paramref name="retainFor"/> after the last job ends.</summary>
    public NativePool(TimeSpan retainFor)
    {
        _retainFor = retainFor;
        _release = new Timer(_ => ReleaseIfNoJob(), null, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>The pool of every <see cref="NativeBuffer{T}"/>; idle blocks outlive the last job by a minute, long enough for a worker's next job.</summary>
    public static NativePool Shared { get; } = new(TimeSpan.FromSeconds(60));

    /// <summary>Bytes in idle blocks.</summary>
    public long IdleBytes
    {
        get
        {
            lock (_gate)
            {
                return _idleBytes;
            }
        }
    }

    /// <summary>Bytes of pooled sizes this pool has asked the system for (a job that found every block in the pool adds nothing).</summary>
    public long FreshBytes => Interlocked.Read(ref _freshBytes);

    /// <summary>
    /// What blocks in use and idle may hold together: a quarter more than the larger of the memory
    /// budget and the most the jobs have had in use at once. A job needs blocks of other sizes at other
    /// moments (the merge's, and the smaller sizes a growing buffer passed through). With this, the
    /// next job of the same shape found all but 2 MB of its blocks with budgets of 48 and 128 MiB, and
    /// 70 to 90% of them with 16, 64 MiB and 1 GiB; keeping every block (twice the larger) found them
    /// all, but at 1 GiB held so many idle blocks the growing buffers had filled that the working set
    /// rose past the budget and 256 MiB.
    /// </summary>
    public static long RetainBytes(long memoryBudgetBytes, long peakInUseBytes)
    {
        var larger = Math.Max(memoryBudgetBytes, peakInUseBytes);
        return larger + (larger / 4);
    }

    /// <summary>The most bytes of pooled sizes in use at once since the pool last emptied.</summary>
    public long PeakInUseBytes
    {
        get
        {
            lock (_gate)
            {
                return _peakInUseBytes;
            }
        }
    }

    /// <summary>The block size that holds <paramref name="bytes"/>: 2^k or 3 x 2^(k-2), or the bytes themselves up to <see cref="MinPooledBytes"/>.</summary>
    public static long BlockBytes(long bytes)
    {
        if (bytes <= MinPooledBytes)
        {
            return Math.Max(1, bytes);
        }

        var power = 64 - BitOperations.LeadingZeroCount((ulong)(bytes - 1)); // 2^power >= bytes
        var threeQuarters = 3L << (power - 2);
        return threeQuarters >= bytes ? threeQuarters : 1L << power;
    }

    /// <summary>A block of at least <paramref name="bytes"/>; <paramref name="blockBytes"/> is its size, which <see cref="Return"/> needs.</summary>
    public void* Rent(long bytes, out long blockBytes)
    {
        blockBytes = BlockBytes(bytes);
        if (blockBytes <= MinPooledBytes)
        {
            return NativeMemory.Alloc((nuint)blockBytes);
        }

        lock (_gate)
        {
            _inUseBytes += blockBytes;
            _peakInUseBytes = Math.Max(_peakInUseBytes, _inUseBytes);
            if (_idle.TryGetValue(blockBytes, out var stack) && stack.TryPop(out var block))
            {
                _idleBytes -= blockBytes;
                return (void*)block;
            }
        }

        Interlocked.Add(ref _freshBytes, blockBytes);
        return SystemBlocks.Alloc(blockBytes);
    }

    /// <summary>Gives a block back: kept while the blocks in use and idle stay within what the jobs may hold, freed otherwise.</summary>
    public void Return(void* block, long blockBytes)
    {
        if (blockBytes > MinPooledBytes)
        {
            lock (_gate)
            {
                _inUseBytes -= blockBytes;
                if (_jobs > 0 && _inUseBytes + _idleBytes + blockBytes <= RetainBytes(_budgetBytes, _peakInUseBytes))
                {
                    if (!_idle.TryGetValue(blockBytes, out var stack))
                    {
                        stack = new Stack<nint>();
                        _idle.Add(blockBytes, stack);
                    }

                    stack.Push((nint)block);
                    _idleBytes += blockBytes;
                    return;
                }
            }
        }

        SystemBlocks.Free(block, blockBytes);
    }

    /// <summary>A job with this memory budget starts: blocks are kept up to <see cref="RetainBytes"/> of the largest budget running.</summary>
    public void JobStarted(long memoryBudgetBytes)
    {
        bool over;
        lock (_gate)
        {
            if (_jobs == 0 && memoryBudgetBytes < _budgetBytes)
            {
                // A job with a smaller budget than the last: it does not inherit what the larger one needed.
                _peakInUseBytes = _inUseBytes;
            }

            _budgetBytes = _jobs == 0 ? memoryBudgetBytes : Math.Max(_budgetBytes, memoryBudgetBytes);
            _jobs++;
            _release.Change(Timeout.Infinite, Timeout.Infinite);
            over = _inUseBytes + _idleBytes > RetainBytes(_budgetBytes, _peakInUseBytes);
        }

        if (over)
        {
            Release();
        }
    }

    /// <summary>A job ended: once no job has run for the retention time, the idle blocks are freed.</summary>
    public void JobEnded()
    {
        lock (_gate)
        {
            if (--_jobs == 0)
            {
                _release.Change(_retainFor, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>Frees every idle block now.</summary>
    public void Release()
    {
        List<(nint Block, long Bytes)> blocks = [];
        lock (_gate)
        {
            foreach (var (bytes, stack) in _idle)
            {
                foreach (var block in stack)
                {
                    blocks.Add((block, bytes));
                }

                stack.Clear();
            }

            _idleBytes = 0;
            _peakInUseBytes = _inUseBytes;
        }

        foreach (var (block, bytes) in blocks)
        {
            SystemBlocks.Free((void*)block, bytes);
        }
    }

    private void ReleaseIfNoJob()
    {
        lock (_gate)
        {
            if (_jobs > 0)
            {
                return;
            }
        }

        Release();
    }
}
