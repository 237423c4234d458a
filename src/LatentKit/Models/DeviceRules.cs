using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// The one rule for the devices a model may be put on, applied wherever a device enters (the builders'
/// <c>OnDevice</c>, <c>MoveTo</c>, loading onto a device, <see cref="TrainingRun.Device"/>): the CPU, or a CUDA device
/// this TorchSharp build and machine have. Anything else is refused before TorchSharp is asked to initialise it.
/// </summary>
internal static class DeviceRules
{
    /// <summary>Why <paramref name="device"/> cannot be used (a sentence naming it and the devices available), or <see langword="null"/>.</summary>
    public static string? Problem(Device device)
    {
        if (device.type == TorchSharp.DeviceType.CPU)
        {
            return null;
        }

        var name = Name(device);
        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            var count = cuda.is_available() ? cuda.device_count() : 0;
            if (count == 0)
            {
                return $"Device '{name}' is not available: this TorchSharp build or machine has no CUDA device; available: {Available()}. Use torch.CPU, or reference a TorchSharp CUDA package (TorchSharp-cuda-linux or TorchSharp-cuda-windows) on a machine with an NVIDIA GPU.";
            }

            if (device.index >= count)
            {
                return $"Device '{name}' is not available: this machine has {count} CUDA device(s); available: {Available()}.";
            }

            return null;
        }

        return $"Device '{name}' is not supported: LatentKit runs on the CPU or a CUDA device; available: {Available()}.";
    }

    /// <summary>Checks <paramref name="device"/> with <see cref="Problem"/>.</summary>
    /// <exception cref="ArgumentNullException">The device is null.</exception>
    /// <exception cref="ArgumentException">The device is not available; the message names it and the devices that are.</exception>
    public static void Check(Device device, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(device, parameterName);
        if (Problem(device) is { } problem)
        {
            throw new ArgumentException(problem, parameterName);
        }
    }

    private static string Name(Device device) =>
        device.index >= 0 ? $"{device.type.ToString().ToLowerInvariant()}:{device.index}" : device.type.ToString().ToLowerInvariant();

    private static string Available()
    {
        var count = cuda.is_available() ? cuda.device_count() : 0;
        return count == 0 ? "CPU" : "CPU, " + string.Join(", ", Enumerable.Range(0, count).Select(i => $"cuda:{i}"));
    }
}
