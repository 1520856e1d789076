namespace Tailor.Format;

/// <summary>Limits every reader enforces so that no length field can cause a large allocation.</summary>
public static class FormatLimits
{
    /// <summary>Default bound on one record's frame and on one payload's decompressed body: 16 MiB.</summary>
    public const int DefaultMaxRecordBytes = 16 * 1024 * 1024;

    /// <summary>The largest metadata of one series: 64 KiB.</summary>
    public const int MaxMetadataBytes = 64 * 1024;

    /// <summary>The largest segment footer a reader accepts: 64 MiB.</summary>
    public const int MaxFooterBytes = 64 * 1024 * 1024;
}
