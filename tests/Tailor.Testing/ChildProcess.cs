using System.Diagnostics;
using System.Text;

namespace Tailor.Testing;

/// <summary>
/// A .NET program started by a test as a separate process (a consumer, a sink worker): its
/// standard output is collected line by line, a test can wait for a line (woken by each new
/// line), and can end it with SIGKILL (a crash) or SIGTERM (a graceful stop).
/// </summary>
/// <remarks>Disposing kills the process if it still runs, so a failed test leaves nothing behind.</remarks>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Lock _lock = new();
    private readonly List<string> _lines = [];
    private readonly StringBuilder _stderr = new();
    private readonly List<string> _errorLines = [];
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(ProcessStartInfo start)
    {
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _exited.TrySetResult();
            }
            else
            {
                lock (_lock)
                {
                    _lines.Add(e.Data);
                }
            }

            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_lock)
                {
                    _stderr.AppendLine(e.Data);
                    _errorLines.Add(e.Data);
                }

                Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
        };
        _process.Start();
        Started = Stopwatch.StartNew();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Time since the process was started.</summary>
    public Stopwatch Started { get; }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Standard output so far, one entry per line.</summary>
    public IReadOnlyList<string> Lines
    {
        get { lock (_lock) { return [.. _lines]; } }
    }

    /// <summary>Standard error so far, one entry per line.</summary>
    public IReadOnlyList<string> ErrorLines
    {
        get { lock (_lock) { return [.. _errorLines]; } }
    }

    /// <summary>Standard error so far.</summary>
    public string StandardError
    {
        get { lock (_lock) { return _stderr.ToString(); } }
    }

    /// <summary>
    /// Runs <c>dotnet exec <paramref name="assemblyPath"/> <paramref name="arguments"/></c> with the
    /// same <c>dotnet</c> host as the test.
    /// </summary>
    public static ChildProcess StartDotnet(string assemblyPath, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        if (!File.Exists(assemblyPath))
        {
            throw new FileNotFoundException("The program to start was not built next to the tests.", assemblyPath);
        }

        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assemblyPath)!,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assemblyPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return new ChildProcess(start);
    }

    /// <summary>Waits for the first output line (from the start) that satisfies <paramref name="match"/>.</summary>
    /// <exception cref="TimeoutException">No such line within <paramref name="timeout"/>, or the process exited first; the message has the output's tail.</exception>
    public Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout) => WaitAsync(() => Lines, match, timeout);

    /// <summary>Waits for the first standard error line (from the start) that satisfies <paramref name="match"/>.</summary>
    /// <exception cref="TimeoutException">No such line within <paramref name="timeout"/>, or the process exited first; the message has the output's tail.</exception>
    public Task<string> WaitForErrorLineAsync(Func<string, bool> match, TimeSpan timeout) => WaitAsync(() => ErrorLines, match, timeout);

    private async Task<string> WaitAsync(Func<IReadOnlyList<string>> lines, Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            var found = lines().FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero || _exited.Task.IsCompleted)
            {
                throw new TimeoutException($"No matching line from process {Id} within {timeout} (exited: {_exited.Task.IsCompleted}). {Describe()}");
            }

            await Task.WhenAny(changed, Task.Delay(left));
        }
    }

    /// <summary>Ends the process at once with SIGKILL: no handler runs, nothing is flushed or committed.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }
    }

    /// <summary>Asks the process to stop with SIGTERM (Ctrl-C semantics for a .NET host).</summary>
    public void Terminate()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Id.ToString()]) { UseShellExecute = false })!;
            kill.WaitForExit();
        }
    }

    /// <summary>Waits for the process to exit and returns its exit code (137 after SIGKILL).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    /// <summary>The last lines of output and error, for failure messages.</summary>
    public string Describe()
    {
        var lines = Lines;
        var tail = string.Join('\n', lines.Skip(Math.Max(0, lines.Count - 20)));
        return $"stdout tail:\n{tail}\nstderr:\n{StandardError}";
    }

    /// <summary>Kills the process if it still runs and releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            Kill();
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
    }

    private static string DotnetHost()
    {
        // The CLI tells child processes which host it is; a test host run directly is itself dotnet.
        var fromCli = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromCli) && File.Exists(fromCli))
        {
            return fromCli;
        }

        var self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}
