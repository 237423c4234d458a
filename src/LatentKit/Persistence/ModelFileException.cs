namespace LatentKit;

/// <summary>Why a model file could not be loaded.</summary>
public enum ModelFileError
{
    /// <summary>There is no file at the path (nothing, or a folder).</summary>
    Missing,

    /// <summary>The file is not a LatentKit model file (another format, or a zip without a LatentKit manifest).</summary>
    NotAModelFile,

    /// <summary>The file is a LatentKit model file but truncated or damaged (its archive, manifest or weights cannot be read, or the weights' checksum does not match).</summary>
    Damaged,

    /// <summary>The file was written by a newer, incompatible LatentKit file format.</summary>
    UnsupportedVersion,

    /// <summary>The file holds another kind of model than the one asked for (for example a classifier opened as an autoencoder).</summary>
    WrongKind,

    /// <summary>The weights do not fit the architecture described in the manifest.</summary>
    WeightsMismatch,
}

/// <summary>A model file could not be loaded; <see cref="Error"/> says why and the message names the file.</summary>
public sealed class ModelFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelFileException(string path, ModelFileError error, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Path = path;
        Error = error;
    }

    /// <summary>The file that could not be loaded.</summary>
    public string Path { get; }

    /// <summary>Why it could not be loaded.</summary>
    public ModelFileError Error { get; }
}
