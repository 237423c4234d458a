namespace LatentKit.Tests.Support;

/// <summary>A callback that runs a test's action at each epoch's end.</summary>
internal sealed class DelegateCallback(Action<EpochSummary, TrainingControl> onEpochEnd) : ITrainingCallback
{
    public void OnEpochEnd(EpochSummary summary, TrainingControl control) => onEpochEnd(summary, control);
}
