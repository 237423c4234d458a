using System.Globalization;

namespace LatentKit;

/// <summary>
/// Writes checkpoints during training (see <see cref="TrainingRun.ResumeFrom"/>): every <see cref="EveryEpochs"/>
/// epochs, or only when <see cref="Monitor"/> improved (<see cref="BestOnly"/>), and optionally a model file of the
/// best epoch. Files are written atomically after every callback of the epoch ran, so a checkpoint holds the state the
/// next epoch starts from. Only the latest checkpoint is kept: with an <c>{epoch}</c> pattern the one this callback
/// wrote before in this run is deleted once the new one is written (a checkpoint of an earlier run, such as the one
/// resumed from, is left alone).
/// </summary>
/// <remarks>
/// Whether <see cref="Path"/> is a file or a folder is decided once, when the callback is created: a path ending in a
/// separator or naming an existing folder is a folder; otherwise an existing file, a path containing
/// <see cref="EpochPlaceholder"/> or a path whose last part has an extension (<c>ck.lkcheckpoint</c>) is a file; any
/// other path (<c>runA</c>, no extension) is a folder, created by the first write. A checkpoint or model file that
/// cannot be written during training stops it with a <see cref="CheckpointException"/>
/// (<see cref="CheckpointError.CannotWrite"/>) naming the path.
/// </remarks>
public sealed class ModelCheckpoint : ITrainingCallback, IStatefulCallback
{
    /// <summary>The placeholder in <see cref="Path"/> replaced by the epoch (four digits).</summary>
    public const string EpochPlaceholder = "{epoch}";

    /// <summary>The file name used when <see cref="Path"/> is a folder.</summary>
    public const string DefaultFileName = "checkpoint-{epoch}.lkcheckpoint";

    private double best;
    private string? lastWritten;

    /// <summary>Creates the callback; settings are checked here.</summary>
    /// <param name="path">The checkpoint file (a name with an extension, such as <c>run/ck.lkcheckpoint</c>, or an existing file), a pattern containing <c>{epoch}</c>, or a folder, where <see cref="DefaultFileName"/> is used: a path ending in a separator, an existing folder, or a name without extension (<c>runA</c>, created when first written).</param>
    /// <param name="everyEpochs">Write every this many epochs (at least 1).</param>
    /// <param name="bestOnly">Write only at epochs where <paramref name="monitor"/> improved (still every <paramref name="everyEpochs"/> at most).</param>
    /// <param name="monitor">The metric watched for <paramref name="bestOnly"/> and <paramref name="bestModelPath"/>.</param>
    /// <param name="mode">Whether smaller or larger values are better.</param>
    /// <param name="bestModelPath">When set, a model file of the best epoch so far is written there (load it with <see cref="AutoencoderFile.Load(string)"/> or <see cref="LatentClassifier.Load(string)"/>). It must be a file path: not an existing folder, not ending in a separator, and neither the checkpoint path nor a path inside or above it.</param>
    /// <exception cref="LatentKitValidationException">Settings are out of range, or <paramref name="bestModelPath"/> is a folder or collides with the checkpoint path: every one is listed.</exception>
    public ModelCheckpoint(string path, int everyEpochs = 1, bool bestOnly = false, string monitor = Metric.ValidationLoss, MetricMode mode = MetricMode.Min, string? bestModelPath = null)
    {
        var errors = new ValidationErrors();
        if (string.IsNullOrWhiteSpace(path))
        {
            errors.Add(nameof(path), path ?? "null", $"ModelCheckpoint path = '{path}' must name a file, a pattern with {EpochPlaceholder} or a folder.");
        }

        CallbackRules.CheckAtLeastOne(errors, nameof(ModelCheckpoint), nameof(everyEpochs), everyEpochs);
        CallbackRules.CheckMonitor(errors, nameof(ModelCheckpoint), monitor);
        CallbackRules.CheckMode(errors, nameof(ModelCheckpoint), mode);
        if (bestModelPath is not null && string.IsNullOrWhiteSpace(bestModelPath))
        {
            errors.Add(nameof(bestModelPath), bestModelPath, "ModelCheckpoint bestModelPath must name a file (or be null).");
        }

        var target = string.IsNullOrWhiteSpace(path) ? string.Empty : CheckpointPath(path);
        if (target.Length > 0 && !string.IsNullOrWhiteSpace(bestModelPath))
        {
            if (FilePaths.EndsInSeparator(bestModelPath) || Directory.Exists(bestModelPath))
            {
                errors.Add(nameof(bestModelPath), bestModelPath, $"ModelCheckpoint bestModelPath = '{bestModelPath}' is a folder: give the model file's name (for example '{System.IO.Path.Combine(bestModelPath, "best.lkm")}').");
            }
            else if (Collide(target, bestModelPath))
            {
                errors.Add(nameof(bestModelPath), bestModelPath, $"ModelCheckpoint bestModelPath = '{bestModelPath}' collides with the checkpoint path '{target}' (the same file, or one inside the other): give the best model file another name, for example beside the checkpoints.");
            }
        }

        errors.ThrowIfAny();
        Path = target;
        EveryEpochs = everyEpochs;
        BestOnly = bestOnly;
        Monitor = monitor;
        Mode = mode;
        BestModelPath = bestModelPath;
    }

    /// <summary>The checkpoint file or pattern.</summary>
    public string Path { get; }

    /// <summary>Epochs between two checkpoints.</summary>
    public int EveryEpochs { get; }

    /// <summary>Whether checkpoints are written only when <see cref="Monitor"/> improved.</summary>
    public bool BestOnly { get; }

    /// <summary>The metric watched.</summary>
    public string Monitor { get; }

    /// <summary>Whether smaller or larger values are better.</summary>
    public MetricMode Mode { get; }

    /// <summary>Where a model file of the best epoch is written, or <see langword="null"/>.</summary>
    public string? BestModelPath { get; }

    /// <summary>The checkpoint written last in this run, or <see langword="null"/>.</summary>
    public string? LastCheckpoint => lastWritten;

    /// <inheritdoc />
    public void OnTrainingBegin()
    {
        best = CallbackRules.Worst(Mode);
        lastWritten = null;
    }

    /// <inheritdoc />
    public void OnEpochEnd(EpochSummary summary, TrainingControl control)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(control);
        var improved = false;
        if (BestOnly || BestModelPath is not null)
        {
            var value = summary[Monitor];
            improved = CallbackRules.Improved(value, best, 0, Mode);
            if (improved)
            {
                best = value;
                if (BestModelPath is not null)
                {
                    control.RequestModelFile(BestModelPath);
                }
            }
        }

        if (summary.Epoch % EveryEpochs != 0 || (BestOnly && !improved))
        {
            return;
        }

        var target = Path.Replace(EpochPlaceholder, summary.Epoch.ToString("D4", CultureInfo.InvariantCulture), StringComparison.Ordinal);
        // The previous checkpoint of a pattern is deleted by the loop once the new one is written.
        control.RequestCheckpoint(target, lastWritten is not null && lastWritten != target ? lastWritten : null);
        lastWritten = target;
    }

    /// <summary>The checkpoint file or pattern <paramref name="path"/> stands for (see the remarks of <see cref="ModelCheckpoint"/>).</summary>
    private static string CheckpointPath(string path)
    {
        var isFolder = FilePaths.EndsInSeparator(path)
            || Directory.Exists(path)
            || (!File.Exists(path) && !path.Contains(EpochPlaceholder, StringComparison.Ordinal) && !System.IO.Path.HasExtension(path));
        return isFolder ? System.IO.Path.Combine(path, DefaultFileName) : path;
    }

    /// <summary>Whether the checkpoint path (or pattern) and the best model file are the same file or one is inside the other.</summary>
    private static bool Collide(string checkpoint, string bestModel)
    {
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var a = System.IO.Path.GetFullPath(checkpoint);
        var b = System.IO.Path.GetFullPath(bestModel);
        bool Inside(string inner, string outer) => inner.StartsWith(outer + System.IO.Path.DirectorySeparatorChar, comparison);
        return string.Equals(a, b, comparison) || Inside(a, b) || Inside(b, a);
    }

    IReadOnlyDictionary<string, double> IStatefulCallback.SaveState() => new Dictionary<string, double> { ["best"] = best };

    void IStatefulCallback.RestoreState(IReadOnlyDictionary<string, double> state) => best = state["best"];
}
