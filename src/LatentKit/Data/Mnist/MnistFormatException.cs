namespace LatentKit;

/// <summary>
/// A file is not a valid MNIST-format (IDX) file: wrong magic number, wrong image size, truncated or too long payload,
/// a label above 9, image and label counts that differ, or content that does not match its known checksum. The message
/// names the file and the problem. (It derives from <see cref="IOException"/>: <see cref="InvalidDataException"/>, the
/// framework's exception for bad data, is sealed.)
/// </summary>
public class MnistFormatException : IOException
{
    /// <summary>Creates the exception for <paramref name="filePath"/> with a description of the problem.</summary>
    /// <param name="filePath">The file (or stream name) that is wrong.</param>
    /// <param name="problem">What is wrong, as a sentence fragment (for example "wrong magic number ...").</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public MnistFormatException(string filePath, string problem, Exception? innerException = null)
        : base($"MNIST file '{filePath}': {problem}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file (or stream name) that is wrong.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; }
}
