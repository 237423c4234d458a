using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using LatentKit.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Tensor = TorchSharp.torch.Tensor;

namespace LatentKit.Benchmarks;

/// <summary>Settings of the ONNX benchmark.</summary>
internal sealed record OnnxBenchmarkSettings(int Threads, int Rounds, int LatencyCalls, int BatchSize, int TestCount, string? DataDirectory, string? Output, string CommandLine);

/// <summary>One model's medians: microseconds per one-image call and images per second in batches, for each runtime.</summary>
internal sealed record OnnxBenchmarkRow(
    string Model, double TorchLatency, double OrtLatency, double TorchThroughput, double OrtThroughput,
    IReadOnlyList<double> TorchLatencyRounds, IReadOnlyList<double> OrtLatencyRounds, IReadOnlyList<double> TorchThroughputRounds, IReadOnlyList<double> OrtThroughputRounds)
{
    public double LatencySpeedup => TorchLatency / OrtLatency;

    public double ThroughputSpeedup => OrtThroughput / TorchThroughput;
}

/// <summary>
/// Encoder inference with ONNX Runtime against TorchSharp (LatentKit's <see cref="IAutoencoder.Encode(TorchSharp.torch.Tensor)"/>) on the same
/// weights and images, side by side in alternating rounds: latency of one-image calls and throughput of batches.
/// </summary>
internal static class OnnxBenchmark
{
    /// <summary>Marks the section of docs/performance.md this benchmark owns (the throughput command keeps it).</summary>
    public const string SectionName = "onnx";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static int Run(OnnxBenchmarkSettings settings) =>
        Run(settings, () => MnistDataset.Load(MnistSplit.Test, new MnistLoadOptions { DataDirectory = settings.DataDirectory }));

    /// <summary>Runs the benchmark on the first <see cref="OnnxBenchmarkSettings.TestCount"/> images of what <paramref name="loadTest"/> gives.</summary>
    public static int Run(OnnxBenchmarkSettings settings, Func<MnistDataset> loadTest)
    {
        torch.set_num_threads(settings.Threads);
        var started = DateTimeOffset.UtcNow;
        var total = Stopwatch.StartNew();
        var test = loadTest().Take(settings.TestCount);
        var busy = OtherProcesses();
        Console.WriteLine($"{test.Count} test images, {settings.Threads} threads for each runtime, {settings.Rounds} alternating rounds; busiest other processes: {busy}");
        var folder = Directory.CreateTempSubdirectory("latentkit-onnx-bench-");
        var rows = new List<OnnxBenchmarkRow>();
        try
        {
            (string Name, Func<IAutoencoder> Build)[] models =
            [
                ("dense 784-256-128-49 (scenarios 1, 3)", () => Autoencoders.Dense().WithHiddenLayers(256, 128).WithLatentSize(49).WithSeed(42).Build()),
                ("convolutional 32, 64 → 49 (scenario 2)", () => Autoencoders.Convolutional().WithChannels(32, 64).WithLatentSize(49).WithSeed(42).Build()),
                ("variational 784-256-128-49 (scenario 4)", () => Autoencoders.Variational().WithHiddenLayers(256, 128).WithLatentSize(49).WithSeed(42).Build()),
            ];
            foreach (var (name, build) in models)
            {
                using var model = build();
                var path = Path.Combine(folder.FullName, "encoder.onnx");
                OnnxExport.Encoder(model, path);
                using var sessionOptions = new SessionOptions { IntraOpNumThreads = settings.Threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
                using var session = new InferenceSession(path, sessionOptions);
                rows.Add(Measure(name, model, session, test, settings));
                var row = rows[^1];
                Console.WriteLine(string.Create(Invariant, $"RESULT {name}: one image TorchSharp {row.TorchLatency:F1} µs, ONNX Runtime {row.OrtLatency:F1} µs ({row.LatencySpeedup:F2}x); batches of {settings.BatchSize} TorchSharp {row.TorchThroughput:N0} images/s, ONNX Runtime {row.OrtThroughput:N0} images/s ({row.ThroughputSpeedup:F2}x)"));
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }

        total.Stop();
        if (settings.Output is { } output)
        {
            PageSections.Write(output, SectionName, Markdown(rows, settings, test.Count, started, total.Elapsed, busy));
            Console.WriteLine($"Wrote the ONNX section of {output}");
        }

        return 0;
    }

    private static OnnxBenchmarkRow Measure(string name, IAutoencoder model, InferenceSession session, MnistDataset test, OnnxBenchmarkSettings settings)
    {
        var layout = model.InputShape.Count == 1 ? ImageLayout.Flat : ImageLayout.Image;
        int[] sample = [.. model.InputShape.Select(d => (int)d)];
        var pixels = new float[test.Count * MnistDataset.PixelsPerImage];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = test.Pixels.Span[i] / 255f;
        }

        // Inputs prepared once for both sides, so only the runtimes' calls are timed.
        var oneImageTensors = Enumerable.Range(0, Math.Min(test.Count, 100)).Select(i => test.ImagesToTensor(i, 1, layout)).ToArray();
        var oneImageOrt = Enumerable.Range(0, oneImageTensors.Length)
            .Select(i => new[] { NamedOnnxValue.CreateFromTensor(OnnxNames.Images, new DenseTensor<float>(pixels.AsMemory(i * MnistDataset.PixelsPerImage, MnistDataset.PixelsPerImage), [1, .. sample])) })
            .ToArray();
        var batchStarts = Enumerable.Range(0, test.Count / settings.BatchSize).Select(b => b * settings.BatchSize).ToArray();
        if (batchStarts.Length == 0)
        {
            batchStarts = [0];
        }

        var batchSize = Math.Min(settings.BatchSize, test.Count);
        var batchTensors = batchStarts.Select(s => test.ImagesToTensor(s, batchSize, layout)).ToArray();
        var batchOrt = batchStarts
            .Select(s => new[] { NamedOnnxValue.CreateFromTensor(OnnxNames.Images, new DenseTensor<float>(pixels.AsMemory(s * MnistDataset.PixelsPerImage, batchSize * MnistDataset.PixelsPerImage), [batchSize, .. sample])) })
            .ToArray();

        double TorchLatency()
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < settings.LatencyCalls; i++)
            {
                model.Encode(oneImageTensors[i % oneImageTensors.Length]).Dispose();
            }

            return watch.Elapsed.TotalMicroseconds / settings.LatencyCalls;
        }

        double OrtLatency()
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < settings.LatencyCalls; i++)
            {
                using var results = session.Run(oneImageOrt[i % oneImageOrt.Length]);
                _ = results[0].AsTensor<float>()[0, 0];
            }

            return watch.Elapsed.TotalMicroseconds / settings.LatencyCalls;
        }

        double TorchThroughput()
        {
            var watch = Stopwatch.StartNew();
            foreach (var batch in batchTensors)
            {
                using var codes = model.Encode(batch);
                _ = codes.data<float>()[0];
            }

            return batchTensors.Length * batchSize / watch.Elapsed.TotalSeconds;
        }

        double OrtThroughput()
        {
            var watch = Stopwatch.StartNew();
            foreach (var batch in batchOrt)
            {
                using var results = session.Run(batch);
                _ = results[0].AsTensor<float>()[0, 0];
            }

            return batchOrt.Length * batchSize / watch.Elapsed.TotalSeconds;
        }

        // Warm-up (first calls allocate and plan), then alternating rounds, the order swapped every round.
        TorchLatency();
        OrtLatency();
        TorchThroughput();
        OrtThroughput();
        List<double> torchLatency = [], ortLatency = [], torchThroughput = [], ortThroughput = [];
        for (var round = 0; round < settings.Rounds; round++)
        {
            if (round % 2 == 0)
            {
                torchLatency.Add(TorchLatency());
                ortLatency.Add(OrtLatency());
                torchThroughput.Add(TorchThroughput());
                ortThroughput.Add(OrtThroughput());
            }
            else
            {
                ortLatency.Add(OrtLatency());
                torchLatency.Add(TorchLatency());
                ortThroughput.Add(OrtThroughput());
                torchThroughput.Add(TorchThroughput());
            }
        }

        foreach (var t in oneImageTensors.Concat(batchTensors))
        {
            t.Dispose();
        }

        return new OnnxBenchmarkRow(name, Median(torchLatency), Median(ortLatency), Median(torchThroughput), Median(ortThroughput), torchLatency, ortLatency, torchThroughput, ortThroughput);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Markdown(List<OnnxBenchmarkRow> rows, OnnxBenchmarkSettings settings, int imageCount, DateTimeOffset started, TimeSpan elapsed, string busy)
    {
        var s = new StringBuilder();
        s.AppendLine("## Inference: ONNX Runtime against TorchSharp");
        s.AppendLine();
        s.AppendLine("Encoding MNIST test images with a model's encoder exported by `LatentKit.Onnx` and run by ONNX Runtime, against LatentKit's `Encode` on TorchSharp, same weights, same images, measured side by side in one run:");
        s.AppendLine();
        s.AppendLine("```bash");
        s.AppendLine(settings.CommandLine);
        s.AppendLine("```");
        s.AppendLine();
        s.AppendLine(Invariant, $"| model | TorchSharp µs per image (1 image per call) | ONNX Runtime µs per image | ONNX Runtime speed-up | TorchSharp images/s (batches of {settings.BatchSize:N0}) | ONNX Runtime images/s | ONNX Runtime speed-up |");
        s.AppendLine("| :-- | --: | --: | --: | --: | --: | --: |");
        foreach (var r in rows)
        {
            s.AppendLine(Invariant, $"| {r.Model} | {r.TorchLatency:F1} | {r.OrtLatency:F1} | {r.LatencySpeedup:F2}x | {r.TorchThroughput:N0} | {r.OrtThroughput:N0} | {r.ThroughputSpeedup:F2}x |");
        }

        s.AppendLine();
        s.AppendLine(Invariant, $"Each figure is the median of {settings.Rounds} alternating rounds (the order of the two runtimes swapped every round, after one warm-up pass of each) on the first {imageCount:N0} MNIST test images, with {settings.Threads} thread(s) for each runtime (`torch.set_num_threads`; ONNX Runtime `IntraOpNumThreads`, sequential execution). The weights are freshly initialised and seeded; inference time does not depend on their values.");
        s.AppendLine();
        s.AppendLine(Invariant, $"- **One image per call**: {settings.LatencyCalls:N0} calls per round, cycling through 100 prepared one-image inputs; TorchSharp: `IAutoencoder.Encode(tensor)` (the model's lock, a dispose scope, evaluation mode, the shape and value checks, the forward pass); ONNX Runtime: `InferenceSession.Run` with a prepared `NamedOnnxValue` and a read of the result. The figure is wall time per call.");
        s.AppendLine(Invariant, $"- **Batches**: every whole batch of {settings.BatchSize:N0} of the test images per round, inputs prepared beforehand on both sides; images per second of wall time.");
        s.AppendLine();
        s.AppendLine("Rounds (in order):");
        s.AppendLine();
        foreach (var r in rows)
        {
            s.AppendLine(Invariant, $"- {r.Model}: µs per image TorchSharp {Join(r.TorchLatencyRounds, "F1")}, ONNX Runtime {Join(r.OrtLatencyRounds, "F1")}; images/s TorchSharp {Join(r.TorchThroughputRounds, "N0")}, ONNX Runtime {Join(r.OrtThroughputRounds, "N0")}");
        }

        s.AppendLine();
        var onnxRuntime = typeof(InferenceSession).Assembly.GetName().Version;
        s.AppendLine(Invariant, $"Machine: {Environment.ProcessorCount} logical processors ({RuntimeInformation.ProcessArchitecture}), {RuntimeInformation.FrameworkDescription}, TorchSharp-cpu, ONNX Runtime {onnxRuntime} (CPU execution provider). Run started {started:yyyy-MM-dd HH:mm} UTC, took {elapsed.TotalSeconds:F0} s; {LoadAverage()}; processes with the highest CPU share at the start (ps pcpu, over their lifetime): {busy}.");
        return s.ToString();
    }

    private static string Join(IEnumerable<double> values, string format) => string.Join(", ", values.Select(v => v.ToString(format, Invariant)));

    private static string LoadAverage()
    {
        const string loadavg = "/proc/loadavg";
        if (!File.Exists(loadavg))
        {
            return "load average unknown";
        }

        var parts = File.ReadAllText(loadavg).Split(' ');
        return $"load average at the end {parts[0]} {parts[1]} {parts[2]} (1, 5, 15 min)";
    }

    /// <summary>The three processes with the highest CPU share over their lifetime (ps pcpu), to say what else ran.</summary>
    private static string OtherProcesses()
    {
        try
        {
            var start = new ProcessStartInfo("ps", "-eo pcpu,comm --sort=-pcpu --no-headers") { RedirectStandardOutput = true };
            using var ps = Process.Start(start)!;
            var lines = ps.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            ps.WaitForExit();
            return string.Join(", ", lines.Where(l => !l.EndsWith(" ps", StringComparison.Ordinal)).Take(3).Select(l => l.Replace(" ", "% ", StringComparison.Ordinal)));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown (no ps)";
        }
    }
}

/// <summary>
/// Named sections of a generated page, between <c>&lt;!-- section:NAME --&gt;</c> and <c>&lt;!-- /section:NAME --&gt;</c>
/// lines, so that two benchmark commands can write one page without erasing each other's part.
/// </summary>
internal static class PageSections
{
    /// <summary>Writes <paramref name="content"/> as the section <paramref name="name"/> of the page at <paramref name="path"/> (replacing it, or appending it), atomically.</summary>
    public static void Write(string path, string name, string content)
    {
        var existing = File.Exists(path) ? File.ReadAllText(path) : string.Empty;
        var block = $"{Begin(name)}\n{content.TrimEnd()}\n{End(name)}\n";
        var (start, end) = Find(existing, name);
        var page = start < 0 ? existing.TrimEnd() + (existing.Length > 0 ? "\n\n" : string.Empty) + block : existing[..start] + block + existing[end..];
        WriteAtomically(path, page);
    }

    /// <summary><paramref name="page"/> followed by every named section of the page now at <paramref name="path"/>, so that regenerating the page keeps them.</summary>
    public static string KeepSections(string path, string page)
    {
        if (!File.Exists(path))
        {
            return page;
        }

        var existing = File.ReadAllText(path);
        var kept = new StringBuilder(page.TrimEnd());
        foreach (var name in new[] { OnnxBenchmark.SectionName })
        {
            var (start, end) = Find(existing, name);
            if (start >= 0)
            {
                kept.Append("\n\n").Append(existing[start..end].TrimEnd());
            }
        }

        return kept.Append('\n').ToString();
    }

    private static (int Start, int End) Find(string text, string name)
    {
        var start = text.IndexOf(Begin(name), StringComparison.Ordinal);
        var end = start < 0 ? -1 : text.IndexOf(End(name), start, StringComparison.Ordinal);
        if (start < 0 || end < 0)
        {
            return (-1, -1);
        }

        end += End(name).Length;
        if (end < text.Length && text[end] == '\n')
        {
            end++;
        }

        return (start, end);
    }

    private static string Begin(string name) => $"<!-- section:{name} -->";

    private static string End(string name) => $"<!-- /section:{name} -->";

    private static void WriteAtomically(string path, string text)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temp, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temp, full, overwrite: true);
    }
}
