using System.Globalization;
using Spectre.Console;

namespace LatentKit.Samples.ResultTable.ConsoleUi;

/// <summary>
/// One progress bar for one training run (a scenario's autoencoder or classifier), advancing batch by batch over all
/// epochs, and one log line per finished epoch written above the bars. Safe to call from the training thread.
/// </summary>
public sealed class TrainingProgressBar
{
    private readonly IAnsiConsole console;
    private readonly ProgressTask bar;
    private readonly string label;
    private readonly int epochs;
    private readonly int batchesPerEpoch;
    private readonly string validationName;

    /// <summary>Adds the bar to a live progress display (see <see cref="ProgressDisplay"/>).</summary>
    /// <param name="context">The live display.</param>
    /// <param name="console">The console the display runs on, for the per-epoch lines.</param>
    /// <param name="label">What is trained, for example "scenario 1 autoencoder".</param>
    /// <param name="epochs">Epochs to train.</param>
    /// <param name="batchesPerEpoch">Batches per epoch.</param>
    /// <param name="validationName">What the per-epoch held-out loss is called in the log line, for example "test".</param>
    public TrainingProgressBar(ProgressContext context, IAnsiConsole console, string label, int epochs, int batchesPerEpoch, string validationName = "validation")
    {
        ArgumentNullException.ThrowIfNull(validationName);
        this.validationName = validationName;
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(label);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchesPerEpoch);
        this.console = console;
        this.label = label;
        this.epochs = epochs;
        this.batchesPerEpoch = batchesPerEpoch;
        bar = context.AddTask(Markup.Escape($"{label}: epoch 1/{epochs}"), autoStart: true, maxValue: (double)epochs * batchesPerEpoch);
    }

    /// <summary>The underlying Spectre task (its value counts batches over all epochs).</summary>
    internal ProgressTask Task => bar;

    /// <summary>Reports that batch <paramref name="batch"/> (1-based) of epoch <paramref name="epoch"/> (1-based) is done.</summary>
    /// <param name="epoch">The epoch, 1..epochs.</param>
    /// <param name="batch">The batch within the epoch, 1..batchesPerEpoch.</param>
    /// <param name="loss">The running training loss of the epoch, when known.</param>
    public void ReportBatch(int epoch, int batch, double? loss = null)
    {
        var done = ((double)(Math.Clamp(epoch, 1, epochs) - 1) * batchesPerEpoch) + Math.Clamp(batch, 0, batchesPerEpoch);
        var text = loss is { } l
            ? string.Create(CultureInfo.InvariantCulture, $"{label}: epoch {epoch}/{epochs}, loss {l:0.0000}")
            : string.Create(CultureInfo.InvariantCulture, $"{label}: epoch {epoch}/{epochs}");
        lock (bar)
        {
            bar.Description = Markup.Escape(text);
            bar.Value = done;
        }
    }

    /// <summary>Reports a finished epoch: moves the bar to its end and writes the epoch's log line.</summary>
    public void CompleteEpoch(int epoch, double trainingLoss, double? validationLoss, TimeSpan duration, double imagesPerSecond)
    {
        ReportBatch(epoch, batchesPerEpoch, trainingLoss);
        console.WriteLine(EpochLine(label, epoch, epochs, trainingLoss, validationLoss, duration, imagesPerSecond, validationName));
    }

    /// <summary>Marks the training finished (the bar shows 100%).</summary>
    public void Complete()
    {
        lock (bar)
        {
            bar.Value = bar.MaxValue;
            bar.StopTask();
        }
    }

    /// <summary>The log line of one epoch, for example "scenario 1 autoencoder: epoch 2/20, training loss 0.0912, validation loss 0.0934, 12.3 s, 4870 images/s".</summary>
    public static string EpochLine(string label, int epoch, int epochs, double trainingLoss, double? validationLoss, TimeSpan duration, double imagesPerSecond, string validationName = "validation")
    {
        var validation = validationLoss is { } v ? string.Create(CultureInfo.InvariantCulture, $", {validationName} loss {v:0.0000}") : string.Empty;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{label}: epoch {epoch}/{epochs}, training loss {trainingLoss:0.0000}{validation}, {duration.TotalSeconds:0.0} s, {imagesPerSecond:0} images/s");
    }
}
