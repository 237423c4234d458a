namespace LatentKit.Imaging;

/// <summary>
/// A folder of images cannot be loaded as a dataset: an image cannot be decoded, is not PNG or JPEG, differs in size or
/// channels from the first image, is too large; a class folder is empty or holds a subfolder; the folder holds no
/// images, or mixes class folders with loose images. The message names the image or folder and says what to change.
/// Nothing is returned when this is thrown (never a partial dataset).
/// </summary>
public class ImageFolderException : IOException
{
    /// <summary>Creates the exception for <paramref name="filePath"/> with a description of the problem.</summary>
    /// <param name="filePath">The image file or folder that is wrong.</param>
    /// <param name="problem">What is wrong and what to do, as a sentence.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public ImageFolderException(string filePath, string problem, Exception? innerException = null)
        : base($"Image folder: '{filePath}': {problem}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The image file or folder that is wrong.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the path.</summary>
    public string Problem { get; }
}
