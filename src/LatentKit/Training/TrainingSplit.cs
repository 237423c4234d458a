namespace LatentKit;

/// <summary>
/// The readers one training run uses: its training data and, when it has some, its validation data
/// (<see cref="TrainingRun.ValidationSet"/>, or the <see cref="TrainingOptions.ValidationFraction"/> split of the
/// training data). A split reads the training data through one reader and two row views of it, so nothing is copied:
/// the parts are the ones <see cref="Dataset.SplitForValidation"/> gives, in the same order. Disposing it disposes
/// every reader it opened.
/// </summary>
internal sealed class TrainingSplit : IDisposable
{
    private readonly TrainingData[] owned;

    private TrainingSplit(TrainingData training, TrainingData? validation, params TrainingData[] owned)
    {
        Training = training;
        Validation = validation;
        this.owned = owned;
    }

    /// <summary>The reader of the samples trained on.</summary>
    public TrainingData Training { get; }

    /// <summary>The reader of the validation samples, or <see langword="null"/> when the run has none.</summary>
    public TrainingData? Validation { get; }

    /// <summary>
    /// Opens the readers of a run on <paramref name="training"/>: <paramref name="open"/> makes a reader of a dataset
    /// (the samples themselves, or a classifier's codes and labels).
    /// </summary>
    public static TrainingSplit Open(Dataset training, TrainingOptions options, TrainingRun run, Func<Dataset, TrainingData> open)
    {
        if (run.ValidationSet is { } set)
        {
            var trainingReader = open(training);
            try
            {
                var validationReader = open(set);
                return new TrainingSplit(trainingReader, validationReader, trainingReader, validationReader);
            }
            catch
            {
                trainingReader.Dispose();
                throw;
            }
        }

        var all = open(training);
        if (options.ValidationFraction is not { } fraction)
        {
            return new TrainingSplit(all, null, all);
        }

        TrainingData? trainingPart = null;
        try
        {
            var (trainingRows, validationRows) = training.SplitIndices(fraction, options.Seed);
            trainingPart = all.Rows(trainingRows);
            var validationPart = all.Rows(validationRows);
            return new TrainingSplit(trainingPart, validationPart, trainingPart, validationPart, all);
        }
        catch
        {
            trainingPart?.Dispose();
            all.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var reader in owned)
        {
            reader.Dispose();
        }
    }
}
