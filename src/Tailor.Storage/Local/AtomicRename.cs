using System.Runtime.InteropServices;

namespace Tailor.Storage;

/// <summary>Moves a finished file into place without ever replacing an existing one, atomically.</summary>
/// <remarks>
/// <c>File.Move(source, destination, overwrite: false)</c> is not atomic on Linux: with eight racing
/// creators on ext4, two to five "won" in about one try in twenty, because it checks for the destination
/// and then renames. <c>link(2)</c> fails with <c>EEXIST</c> atomically, so on Unix the file is linked
/// into place and the temporary name removed; Windows' move without replace is already atomic. File
/// systems without hard links fall back to the non-atomic move.
/// </remarks>
internal static partial class AtomicRename
{
    private const int EEXIST = 17;
    private const int EPERM = 1;
    private const int EXDEV = 18;
    private const int EMLINK = 31;
    private const int ENOSYS = 38;
    private const int EOPNOTSUPP = 95;

    /// <summary>Moves <paramref name="source"/> to <paramref name="destination"/> unless something is there already.</summary>
    /// <returns><see langword="false"/> when the destination exists (the source is left in place).</returns>
    /// <exception cref="IOException">Any other failure, with the errno in <see cref="Exception.HResult"/> on Unix.</exception>
    public static bool TryMoveNoReplace(string source, string destination)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                File.Move(source, destination, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(destination) || Directory.Exists(destination))
            {
                return false;
            }
        }

        if (Link(source, destination) == 0)
        {
            File.Delete(source);
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        switch (errno)
        {
            case EEXIST:
                return false;
            case EPERM or EXDEV or EMLINK or ENOSYS or EOPNOTSUPP:
                // No hard links here: the best this file system offers.
                if (File.Exists(destination) || Directory.Exists(destination))
                {
                    return false;
                }

                File.Move(source, destination, overwrite: false);
                return true;
            case 2:
                throw new DirectoryNotFoundException($"Could not find a part of the path '{destination}'.");
            default:
                throw new IOException($"Could not move '{source}' to '{destination}': {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string source, string destination);
}
