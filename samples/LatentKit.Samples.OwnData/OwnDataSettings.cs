namespace LatentKit.Samples.OwnData;

/// <summary>What the sample trains on and how (from the command line, or set by tests).</summary>
public sealed record OwnDataSettings
{
    /// <summary>Where the models are saved unless <c>--output</c> says otherwise.</summary>
    public const string DefaultOutputDirectory = "output/own-data";

    /// <summary>A folder of images: one subfolder per class, or images directly in it (unlabelled).</summary>
    public string? ImagesDirectory { get; init; }

    /// <summary>A CSV file of numbers, one sample per row.</summary>
    public string? CsvFile { get; init; }

    /// <summary>The CSV column holding the class of each row (by header name); none: unlabelled.</summary>
    public string? LabelColumn { get; init; }

    /// <summary>Resize every image to this width (with <see cref="Height"/>); none: the images' own size, which must agree.</summary>
    public int? Width { get; init; }

    /// <summary>Resize every image to this height (with <see cref="Width"/>).</summary>
    public int? Height { get; init; }

    /// <summary>Convert images to grey (one channel).</summary>
    public bool Grey { get; init; }

    /// <summary>Decode the images batch by batch instead of all at once.</summary>
    public bool Streaming { get; init; }

    /// <summary>Epochs for the autoencoder and the classifier.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Batch size.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Values in a latent code; none: one code map for images (ceil(H / 4) x ceil(W / 4) values), a quarter of the features (at least 2) for vectors.</summary>
    public int? LatentSize { get; init; }

    /// <summary>Fraction of the samples held out as the test set.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Seed of the split, the weights and the batch order.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Threads for TorchSharp's CPU kernels; none: TorchSharp's choice.</summary>
    public int? Threads { get; init; }

    /// <summary>Where the trained models are saved.</summary>
    public string OutputDirectory { get; init; } = DefaultOutputDirectory;
}
