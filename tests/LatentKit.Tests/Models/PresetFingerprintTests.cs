using System.Globalization;
using System.Security.Cryptography;
using LatentKit.Tests.Support;
using Xunit.Abstractions;

namespace LatentKit.Tests.Models;

/// <summary>
/// The four presets built with their seed give the same initial weights and the same training losses as before the
/// input-shape work (issue 8): the fingerprints below were measured on main before the change.
/// </summary>
public sealed class PresetFingerprintTests(ITestOutputHelper output)
{
    public static TheoryData<int, string> Expected => new()
    {
        { 1, "0EB085BD44332C16|0.6890898048877716;0.6558098345994949" },
        { 2, "4A4462A3F4218104|0.6134380400180817;0.5974864363670349" },
        { 3, "0EB085BD44332C16|0.6800601482391357;0.5987342745065689" },
        { 4, "F0F08A80BE43DF75|534.2411956787109;501.1211471557617" },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void Preset_weights_and_losses_are_unchanged(int scenario, string expected)
    {
        var preset = ReferenceScenarios.All[scenario - 1];
        using var model = (AutoencoderBase)preset.CreateAutoencoderBuilder().Build();
        using var memory = new MemoryStream();
        model.Network.save(memory);
        var weights = Convert.ToHexString(SHA256.HashData(memory.ToArray()))[..16];
        var history = model.Train(Synthetic.Digits(64), new TrainingOptions { Epochs = 2, BatchSize = 16, Seed = 7 }, new TrainingRun { Threads = 1 });
        var losses = string.Join(";", history.Epochs.Select(e => e.TrainingLoss.ToString("R", CultureInfo.InvariantCulture)));
        var fingerprint = $"{weights}|{losses}";
        output.WriteLine($"scenario {scenario}: {fingerprint}");
        fingerprint.Should().Be(expected);
    }
}
