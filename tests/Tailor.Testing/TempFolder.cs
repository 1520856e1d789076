namespace Tailor.Testing;

/// <summary>A fresh, empty folder under the system temp folder, deleted (with everything in it) on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    /// <summary>Creates the folder.</summary>
    /// <param name="label">A word for the folder's name, to tell test leftovers apart.</param>
    public TempFolder(string label = "test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tailor-tests", $"{label}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    /// <summary>The folder's absolute path.</summary>
    public string Path { get; }

    /// <summary>The folder as a <c>file:///</c> URI.</summary>
    public string Uri => new Uri(Path).AbsoluteUri;

    /// <summary>Deletes the folder; a failure to delete is ignored (the system cleans its temp folder).</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
