namespace LatentKit;

/// <summary>The range of a dataset's sample values as the models see them.</summary>
public enum SampleRange
{
    /// <summary>Values in [0, 1] (bytes scaled by 1/255, images): fits a sigmoid output and binary cross-entropy.</summary>
    ZeroToOne,

    /// <summary>Any finite values (for example feature vectors).</summary>
    Unbounded,
}
