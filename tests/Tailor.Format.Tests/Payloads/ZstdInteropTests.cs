using System.Diagnostics;
using Tailor.Format.Payloads;
using Tailor.Format.Tests.Support;

namespace Tailor.Format.Tests.Payloads;

/// <summary>Frames written here are standard: the zstd command line tool reads them, and we read its frames.</summary>
public sealed class ZstdInteropTests
{
    [Fact]
    public void The_zstd_tool_decodes_our_frames_to_the_same_body()
    {
        var rng = new Random(5);
        using var writer = new PayloadWriter();
        for (var i = 0; i < 5; i++)
        {
            var payload = TestPayloads.Random(rng, 8, 200);
            var body = TestPayloads.EncodeBody(writer, payload);
            var frame = TestPayloads.Encode(writer, payload);
            var dir = Directory.CreateTempSubdirectory("tailor-zstd-");
            try
            {
                var framePath = Path.Combine(dir.FullName, "p.zst");
                File.WriteAllBytes(framePath, frame);
                Zstd("-d", "-q", "-f", framePath, "-o", Path.Combine(dir.FullName, "p.bin"));
                Assert.Equal(body, File.ReadAllBytes(Path.Combine(dir.FullName, "p.bin")));
            }
            finally
            {
                dir.Delete(true);
            }
        }
    }

    [Fact]
    public void We_read_frames_the_zstd_tool_compressed()
    {
        var rng = new Random(6);
        using var writer = new PayloadWriter();
        using var decoder = new PayloadDecoder();
        foreach (var level in new[] { "-1", "-19" })
        {
            var payload = TestPayloads.Random(rng, 8, 200);
            var body = TestPayloads.EncodeBody(writer, payload);
            var dir = Directory.CreateTempSubdirectory("tailor-zstd-");
            try
            {
                var bodyPath = Path.Combine(dir.FullName, "p.bin");
                File.WriteAllBytes(bodyPath, body);
                Zstd(level, "-q", "-f", bodyPath, "-o", Path.Combine(dir.FullName, "p.zst"));
                var frame = File.ReadAllBytes(Path.Combine(dir.FullName, "p.zst"));
                Assert.True(TestPayloads.Decode(decoder, frame).SameAs(payload));
            }
            finally
            {
                dir.Delete(true);
            }
        }
    }

    [Fact]
    public async Task We_read_a_streamed_frame_without_a_declared_size()
    {
        // zstd reading from a pipe does not know the size in advance, so the frame header omits it.
        using var writer = new PayloadWriter();
        using var decoder = new PayloadDecoder();
        var payload = TestPayloads.Random(new Random(8), 6, 100);
        var body = TestPayloads.EncodeBody(writer, payload);
        var psi = new ProcessStartInfo("zstd", "-q -c -")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        await process.StandardInput.BaseStream.WriteAsync(body);
        process.StandardInput.Close();
        await copy;
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        var frame = output.ToArray();
        Assert.Equal(Tailor.Format.Zstd.ZstdFrameStatus.Ok, Tailor.Format.Zstd.ZstdFrameDecompressor.TryGetContentSize(frame, out var declared));
        Assert.Equal(-1, declared);
        Assert.True(TestPayloads.Decode(decoder, frame).SameAs(payload));
    }

    private static void Zstd(params string[] args)
    {
        var psi = new ProcessStartInfo("zstd") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("zstd did not start");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"zstd {string.Join(' ', args)} failed: {error}");
    }
}
