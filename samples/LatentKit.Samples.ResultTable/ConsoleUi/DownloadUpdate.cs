namespace LatentKit.Samples.ResultTable.ConsoleUi;

/// <summary>One progress report of a download, as <see cref="DownloadProgressBars"/> shows it.</summary>
/// <param name="Item">What is being downloaded, for example a file name; one bar per item.</param>
/// <param name="BytesReceived">Bytes received so far.</param>
/// <param name="BytesTotal">Bytes expected in all, or null when unknown (the bar is then indeterminate).</param>
/// <param name="Completed">Whether the item is finished (downloaded, or found in the cache).</param>
/// <param name="Source">Where it comes from, for example a mirror's name; shown beside the item when given.</param>
public sealed record DownloadUpdate(string Item, long BytesReceived, long? BytesTotal, bool Completed = false, string? Source = null);
