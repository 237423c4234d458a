using System.Buffers.Binary;
using System.Diagnostics;
using System.Reflection;
using LatentKit.Samples.OnnxServing.Export;
using LatentKit.Tests.Support;

namespace LatentKit.Samples.Tests.Smoke;

/// <summary>
/// The ONNX serving sample end to end on synthetic digits: the export program trains and exports a classifier, and the
/// serving program, in its own process from its own folder (no LatentKit, no TorchSharp, no libtorch there), reads
/// the test images from IDX files and prints the same accuracy, with ONNX Runtime and with ML.NET.
/// </summary>
public class OnnxServingSmokeTests
{
    [Fact]
    public void The_serving_program_without_TorchSharp_prints_the_accuracy_LatentKit_measured()
    {
        using var folder = new TempDirectory();
        var test = Synthetic.Digits(500, 2);
        var exportLog = new StringWriter();
        using var classifier = ExportSample.Train(Synthetic.Digits(1000, 1), epochs: 10, exportLog);
        var accuracy = ExportSample.Export(classifier, test, Path.Combine(folder.Path, "classifier.onnx"), exportLog);
        WriteIdx(test, folder.Path);

        var serve = ServeAssembly();
        var serveFolder = Path.GetDirectoryName(serve)!;
        Directory.EnumerateFiles(serveFolder, "*", SearchOption.AllDirectories).Select(Path.GetFileName)
            .Should().NotContain(f => f!.StartsWith("TorchSharp", StringComparison.Ordinal) || f.StartsWith("LatentKit.dll", StringComparison.Ordinal) || f.Contains("libtorch", StringComparison.Ordinal));

        var (code, output) = Run(serve, Path.Combine(folder.Path, "classifier.onnx"), folder.Path);

        code.Should().Be(0, output);
        var expected = $"{accuracy:F4} ({(int)Math.Round(accuracy * test.Count)} / {test.Count})";
        exportLog.ToString().Should().Contain($"LatentKit accuracy: {expected}");
        output.Should().Contain($"ONNX Runtime accuracy: {expected}").And.Contain($"ML.NET ApplyOnnxModel accuracy: {expected}");
        accuracy.Should().BeGreaterThan(0.5, "a classifier that learned nothing would make the comparison meaningless");
    }

    [Fact]
    public void The_serving_program_names_a_missing_MNIST_file()
    {
        using var folder = new TempDirectory();

        var (code, output) = Run(ServeAssembly(), Path.Combine(folder.Path, "missing.onnx"), folder.Path);

        code.Should().NotBe(0);
        output.Should().Contain("t10k-images-idx3-ubyte").And.Contain(folder.Path);
    }

    internal static (int Code, string Output) Run(string assembly, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit(TimeSpan.FromMinutes(3)).Should().BeTrue("the serving program finishes");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>The serving program in its own build folder (same configuration as these tests).</summary>
    internal static string ServeAssembly()
    {
        var configuration = typeof(OnnxServingSmokeTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "LatentKit.sln")))
        {
            root = root.Parent;
        }

        root.Should().NotBeNull("the tests run inside the repository");
        var path = Path.Combine(root!.FullName, "samples", "LatentKit.Samples.OnnxServing", "Serve", "bin", configuration, "net10.0", "LatentKit.Samples.OnnxServing.Serve.dll");
        File.Exists(path).Should().BeTrue($"the test project builds the serving sample ({path})");
        return path;
    }

    private static void WriteIdx(MnistDataset data, string folder)
    {
        var images = new byte[16 + data.Pixels.Length];
        BinaryPrimitives.WriteInt32BigEndian(images, 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), data.Count);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), 28);
        data.Pixels.Span.CopyTo(images.AsSpan(16));
        File.WriteAllBytes(Path.Combine(folder, "t10k-images-idx3-ubyte"), images);

        var labels = new byte[8 + data.Count];
        BinaryPrimitives.WriteInt32BigEndian(labels, 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), data.Count);
        data.Labels.Span.CopyTo(labels.AsSpan(8));
        File.WriteAllBytes(Path.Combine(folder, "t10k-labels-idx1-ubyte"), labels);
    }
}
