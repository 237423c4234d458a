namespace LatentKit.Samples.OnnxServing.Export;

/// <summary>The export program: its command line, then the run, with failures reported as one line.</summary>
internal static class ExportProgram
{
    /// <summary>Exit code for a run that failed (a file that is not a model, MNIST files that do not read, ...).</summary>
    public const int FailureExitCode = 1;

    /// <summary>Runs the program with <paramref name="args"/>; returns its exit code.</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="output">Standard output.</param>
    /// <param name="error">Standard error.</param>
    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error) =>
        ExportCommandLine.InvokeAsync(args, settings => Run(settings, output, error), output, error);

    private static int Run(ExportSettings settings, TextWriter output, TextWriter error)
    {
        try
        {
            MnistDataset Load(MnistSplit split) => settings.DataDirectory is { } folder
                ? MnistDataset.LoadFromDirectory(folder, split)
                : MnistDataset.Load(split);

            // A saved model is opened first: a file that is not one fails before MNIST is read.
            using var saved = settings.ModelPath is { } path ? LatentClassifier.Load(path) : null;
            var test = Load(MnistSplit.Test);
            using var trained = saved is null ? ExportSample.Train(Load(MnistSplit.Train), settings.Epochs, output) : null;
            ExportSample.Export(saved ?? trained!, test, settings.OutputPath, output);
            output.WriteLine($"Serve it without LatentKit or TorchSharp: dotnet run --project samples/LatentKit.Samples.OnnxServing/Serve -c Release -- {settings.OutputPath}");
            return 0;
        }
        catch (Exception e) when (e is ModelFileException or IOException or UnauthorizedAccessException or TrainingDivergedException or ArgumentException or NotSupportedException)
        {
            error.WriteLine($"error: {e.Message}");
            return FailureExitCode;
        }
    }
}
