namespace LatentKit.Tests.Support;

/// <summary>An <see cref="IProgress{T}"/> that runs its callback synchronously on the training thread.</summary>
internal sealed class SyncProgress<T>(Action<T> onReport) : IProgress<T>
{
    public void Report(T value) => onReport(value);
}
