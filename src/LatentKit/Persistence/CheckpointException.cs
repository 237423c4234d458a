namespace LatentKit;

/// <summary>Why a checkpoint could not be used to resume training, or could not be written.</summary>
public enum CheckpointError
{
    /// <summary>There is no file at the path (nothing, or a folder).</summary>
    Missing,

    /// <summary>The file is not a LatentKit checkpoint.</summary>
    NotACheckpoint,

    /// <summary>The file is a checkpoint but truncated or damaged (an entry is missing, of the wrong size, or does not match its checksum).</summary>
    Damaged,

    /// <summary>The file was written by a newer, incompatible checkpoint format.</summary>
    UnsupportedVersion,

    /// <summary>The checkpoint holds another kind or architecture of model than the one being trained.</summary>
    WrongModel,

    /// <summary>The checkpoint was written with other <see cref="TrainingOptions"/> (the message names the setting), or has no epochs left to run.</summary>
    OptionsMismatch,

    /// <summary>
    /// The checkpoint was written by a run on another number of training (or validation) samples: the batch order and
    /// the epochs that follow would not be those of the interrupted run.
    /// </summary>
    DataMismatch,

    /// <summary>
    /// A checkpoint or best-model file could not be written during training (<see cref="ModelCheckpoint"/>): the path
    /// is a folder, its folder cannot be created, or writing there failed. Training stopped; the message names the path.
    /// </summary>
    CannotWrite,
}

/// <summary>A checkpoint could not be used or written; <see cref="Error"/> says why and the message names the file.</summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointException(string path, CheckpointError error, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Path = path;
        Error = error;
    }

    /// <summary>The checkpoint file (or, for <see cref="CheckpointError.CannotWrite"/>, the file that could not be written).</summary>
    public string Path { get; }

    /// <summary>Why it could not be used.</summary>
    public CheckpointError Error { get; }
}
