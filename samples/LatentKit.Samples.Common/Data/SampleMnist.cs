using TorchSharp;

namespace LatentKit.Samples.Common.Data;

/// <summary>The start every MNIST sample app shares: threads, output folder, and the two splits.</summary>
public static class SampleMnist
{
    /// <summary>
    /// Sets TorchSharp's thread count when <paramref name="threads"/> is given, creates <paramref name="outputDirectory"/>,
    /// and loads MNIST's training and test sets, from <paramref name="dataDirectory"/> when given (read in place)
    /// and otherwise through LatentKit's cache; <paramref name="loader"/> replaces <see cref="MnistDataset.Load"/> (the
    /// smoke tests give synthetic digits).
    /// </summary>
    public static (MnistDataset Train, MnistDataset Test) Prepare(int? threads, string outputDirectory, string? dataDirectory, Func<MnistSplit, MnistLoadOptions, MnistDataset>? loader = null)
    {
        if (threads is { } count)
        {
            torch.set_num_threads(count);
        }

        Directory.CreateDirectory(outputDirectory);
        var options = new MnistLoadOptions();
        if (dataDirectory is { } directory)
        {
            options.DataDirectory = directory;
        }

        var load = loader ?? ((split, o) => MnistDataset.Load(split, o));
        return (load(MnistSplit.Train, options), load(MnistSplit.Test, options));
    }
}
