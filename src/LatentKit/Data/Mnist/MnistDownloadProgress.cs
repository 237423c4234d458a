namespace LatentKit;

/// <summary>Progress of fetching one MNIST file from one source.</summary>
/// <param name="Source">The source's name (see <see cref="IMnistSource.Name"/>).</param>
/// <param name="FileName">The standard file name being fetched.</param>
/// <param name="BytesDone">Bytes received so far (as delivered by the source: compressed for a <c>.gz</c> download).</param>
/// <param name="TotalBytes">Total bytes expected, when the source knows it.</param>
public readonly record struct MnistDownloadProgress(string Source, string FileName, long BytesDone, long? TotalBytes)
{
    /// <summary>The fraction done in [0, 1], when the total is known.</summary>
    public double? Fraction => TotalBytes is > 0 and var total ? Math.Clamp((double)BytesDone / total, 0, 1) : null;
}
