namespace LatentKit.Samples.ResultTable.CommandLine;

/// <summary>
/// What the result-table run was asked to do, as parsed and validated from the command line. Null means "the
/// scenario preset's own value" (or the library's default).
/// </summary>
public sealed record ResultTableSettings
{
    /// <summary>The numbers of the reference scenarios.</summary>
    public static IReadOnlyList<int> AllScenarios { get; } = [1, 2, 3, 4];

    /// <summary>Where results go when <c>--output</c> is not given, relative to the working directory.</summary>
    public const string DefaultOutputDirectory = "./output/result-table";

    /// <summary>Training images per scenario in <c>--quick</c> mode (a balanced subset of the training split).</summary>
    public const int QuickTrainingImages = 2_000;

    /// <summary>Test images per scenario in <c>--quick</c> mode (a balanced subset of the test split).</summary>
    public const int QuickTestImages = 1_000;

    /// <summary>Autoencoder epochs in <c>--quick</c> mode unless <c>--epochs</c> says otherwise.</summary>
    public const int QuickEpochs = 1;

    /// <summary>The scenarios to run, 1..4, in the order given, without repeats.</summary>
    public IReadOnlyList<int> Scenarios { get; init; } = AllScenarios;

    /// <summary>Autoencoder epochs for every scenario, or null for each preset's own.</summary>
    public int? Epochs { get; init; }

    /// <summary>Batch size for every scenario, or null for each preset's own.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Seed for initialisation, shuffling and splits, or null for each preset's own.</summary>
    public int? Seed { get; init; }

    /// <summary>Threads for TorchSharp's CPU kernels, or null for TorchSharp's default.</summary>
    public int? Threads { get; init; }

    /// <summary>Where MNIST is cached, or null for the library's default cache.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Where results.json, results.md and the pictures are written.</summary>
    public string OutputDirectory { get; init; } = DefaultOutputDirectory;

    /// <summary>A smoke run: small balanced subsets and <see cref="QuickEpochs"/> epoch(s).</summary>
    public bool Quick { get; init; }

    /// <summary>The autoencoder epochs to train: <see cref="Epochs"/> if given, else 1 in quick mode, else the preset's.</summary>
    /// <param name="presetEpochs">The scenario preset's own epoch count.</param>
    public int EffectiveEpochs(int presetEpochs) => Epochs ?? (Quick ? QuickEpochs : presetEpochs);
}
