using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace Tailor.Fuzz.Tests.Harness;

/// <summary>
/// The case being run, kept in a memory-mapped file: a fault that kills the process (an over-read
/// into a guard page, a stack overflow) leaves the input and its seed behind in the page cache, and
/// the next run saves them as a crash file. Writing a case is a memory copy, not a file write.
/// </summary>
public sealed unsafe class InflightRecord : IDisposable
{
    private const int HeaderLength = 16;
    private const uint Magic = 0x4E494654; // "TFIN"
    private const int Capacity = 4 << 20;

    private readonly string _path;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;

    public InflightRecord(string folder, string target)
    {
        _path = Path.Combine(folder, $"inflight-{target}.bin");
        _map = MemoryMappedFile.CreateFromFile(_path, FileMode.Create, null, HeaderLength + Capacity, MemoryMappedFileAccess.ReadWrite);
        _view = _map.CreateViewAccessor(0, HeaderLength + Capacity, MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _pointer = pointer + _view.PointerOffset;
    }

    /// <summary>Notes the case about to run.</summary>
    public void Begin(ulong seed, byte[] input)
    {
        var span = new Span<byte>(_pointer, HeaderLength + Capacity);
        var length = Math.Min(input.Length, Capacity);
        BinaryPrimitives.WriteUInt32LittleEndian(span, 0); // invalid while it is being written
        BinaryPrimitives.WriteUInt64LittleEndian(span[4..], seed);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], length);
        input.AsSpan(0, length).CopyTo(span[HeaderLength..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
    }

    /// <summary>
    /// Saves the case a crashed earlier run left behind as <c>crash-&lt;target&gt;-&lt;seed&gt;.bin</c> and
    /// returns its path, or null when the last run ended cleanly.
    /// </summary>
    public static string? RecoverCrash(string folder, string target)
    {
        var path = Path.Combine(folder, $"inflight-{target}.bin");
        if (!File.Exists(path))
        {
            return null;
        }

        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        if (bytes.Length < HeaderLength || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic)
        {
            return null;
        }

        var seed = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(4));
        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        var crash = Path.Combine(folder, $"crash-{target}-{seed:x16}.bin");
        File.WriteAllBytes(crash, bytes.AsSpan(HeaderLength, Math.Clamp(length, 0, bytes.Length - HeaderLength)).ToArray());
        return crash;
    }

    /// <summary>Unmaps and deletes the record: the run ended without a crash.</summary>
    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
        File.Delete(_path);
    }
}
