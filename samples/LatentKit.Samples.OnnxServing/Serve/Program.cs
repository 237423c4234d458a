using System.CommandLine;
using System.CommandLine.Help;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// Usage: Serve <classifier.onnx> [folder with t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (or .gz)] [--no-mlnet]
// The default folder is LatentKit's cache: $LATENTKIT_HOME/mnist, else ~/.cache/latentkit/mnist. --help describes them.
return await ServeCommandLine.InvokeAsync(args, ServeProgram.Run, Console.Out, Console.Error).ConfigureAwait(false);

/// <summary>
/// The serving program's command line, on System.CommandLine: the model, the MNIST folder, <c>--no-mlnet</c>,
/// <c>--help</c>, and the exit codes (0 success, 1 a failed run, 2 a wrong command line). The files are checked here,
/// before anything is read.
/// </summary>
internal static class ServeCommandLine
{
    /// <summary>Exit code for a wrong command line.</summary>
    public const int UsageErrorExitCode = 2;

    /// <summary>Parses and checks <paramref name="args"/>, then prints help (exit 0), the errors (exit 2), or runs <paramref name="run"/>.</summary>
    public static async Task<int> InvokeAsync(string[] args, Func<string, string, bool, int> run, TextWriter output, TextWriter error)
    {
        var model = new Argument<string>("model") { Description = "The classifier exported by the Export program (.onnx).", Arity = ArgumentArity.ZeroOrOne };
        var folder = new Argument<string>("mnist-folder")
        {
            Description = "The folder holding t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (raw or .gz); default: LatentKit's cache, $LATENTKIT_HOME/mnist, else ~/.cache/latentkit/mnist.",
            DefaultValueFactory = _ => DefaultFolder(),
        };
        var noMlNet = new Option<bool>("--no-mlnet") { Description = "Skip the ML.NET pipeline (ONNX Runtime only)." };
        var root = new RootCommand("Classifies MNIST's test set with a classifier exported to ONNX, with ONNX Runtime and through an ML.NET pipeline; no LatentKit, no TorchSharp.")
        {
            model, folder, noMlNet,
        };
        model.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0)
            {
                return;
            }

            var path = r.Tokens[0].Value;
            if (Directory.Exists(path))
            {
                r.AddError($"The model '{path}' is a folder; give the .onnx file the Export program wrote.");
            }
            else if (!File.Exists(path))
            {
                r.AddError($"The model '{path}' does not exist; give the .onnx file the Export program wrote.");
            }
        });
        folder.Validators.Add(r =>
        {
            var path = r.GetValueOrDefault<string>();
            var given = r.Tokens.Count > 0 ? "The MNIST folder" : "LatentKit's MNIST cache";
            if (File.Exists(path))
            {
                r.AddError($"{given} '{path}' is a file; give the folder holding MNIST's test files.");
            }
            else if (!Directory.Exists(path))
            {
                r.AddError($"{given} '{path}' does not exist; give the folder holding MNIST's test files as the second argument.");
            }
            else if (Idx.Missing(path) is { Length: > 0 } missing)
            {
                r.AddError($"{given} '{path}' lacks {string.Join(", ", missing)} (raw or .gz); give the folder holding MNIST's test files as the second argument.");
            }
        });
        root.Validators.Add(r =>
        {
            // An argument given no value has no result of its own to validate.
            if (r.GetResult(model) is not { Tokens.Count: > 0 })
            {
                r.AddError("Give the model: the .onnx file the Export program wrote, then optionally the MNIST folder.");
            }
        });
        root.SetAction(result => run(result.GetValue(model)!, result.GetValue(folder)!, !result.GetValue(noMlNet)));
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
        {
            foreach (var message in parsed.Errors.Select(e => e.Message).Distinct())
            {
                await error.WriteLineAsync($"error: {message} Run with --help to see the arguments.").ConfigureAwait(false);
            }

            return UsageErrorExitCode;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }).ConfigureAwait(false);
    }

    private static string DefaultFolder()
    {
        var home = Environment.GetEnvironmentVariable("LATENTKIT_HOME");
        return Path.Combine(string.IsNullOrWhiteSpace(home) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "latentkit") : home, "mnist");
    }
}

/// <summary>The run: opens the model (before MNIST is read), classifies the test set, reports failures as one line.</summary>
internal static class ServeProgram
{
    /// <summary>Exit code for a run that failed (ONNX Runtime refusing the file, MNIST files that do not read, ...).</summary>
    public const int FailureExitCode = 1;

    /// <summary>Serves <paramref name="modelPath"/> on the MNIST test files in <paramref name="folder"/>; returns the exit code.</summary>
    public static int Run(string modelPath, string folder, bool mlNet)
    {
        InferenceSession session;
        try
        {
            session = new InferenceSession(modelPath);
        }
        catch (OnnxRuntimeException e)
        {
            return Fail($"ONNX Runtime cannot open '{modelPath}' as a model: {e.Message}");
        }

        using (session)
        {
            try
            {
                return Serve(session, modelPath, folder, mlNet);
            }
            catch (Exception e) when (e is OnnxRuntimeException or IOException or InvalidDataException or JsonException or InvalidOperationException or ArgumentException)
            {
                return Fail(e.Message);
            }
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message.ReplaceLineEndings(" ").Trim()}");
        return FailureExitCode;
    }

    private static int Serve(InferenceSession session, string modelPath, string folder, bool mlNet)
    {
        var metadata = session.ModelMetadata.CustomMetadataMap;
        string[] needed = ["latentkit.class_names", "latentkit.graph", "latentkit.model_kind", "latentkit.version", "latentkit.input_normalization"];
        if (!session.InputMetadata.ContainsKey("images"))
        {
            return Fail($"'{modelPath}' is not a classifier exported by LatentKit (OnnxExport.Classifier): it has no input named images.");
        }

        if (needed.FirstOrDefault(k => !metadata.ContainsKey(k)) is { } lacking)
        {
            return Fail($"'{modelPath}' is not a classifier exported by LatentKit (OnnxExport.Classifier): its metadata lacks {lacking}.");
        }

        var (pixels, rows, columns) = Idx.ReadImages(Idx.Find(folder, "t10k-images-idx3-ubyte"));
        var labels = Idx.ReadLabels(Idx.Find(folder, "t10k-labels-idx1-ubyte"));
        var count = labels.Length;
        var size = rows * columns;

        var classNames = JsonSerializer.Deserialize<string[]>(metadata["latentkit.class_names"])!;
        var input = session.InputMetadata["images"];
        Console.WriteLine($"Model: {metadata["latentkit.graph"]} on a {metadata["latentkit.model_kind"]} encoder, LatentKit {metadata["latentkit.version"]}");
        Console.WriteLine($"Input: images [{string.Join(", ", input.Dimensions)}], {metadata["latentkit.input_normalization"]}; classes: {string.Join(" ", classNames)}");

        // ONNX Runtime: batches of 1,000 images, pixels scaled as the metadata says (byte / 255).
        var correct = 0;
        const int BatchSize = 1000;
        for (var start = 0; start < count; start += BatchSize)
        {
            var n = Math.Min(BatchSize, count - start);
            var batch = new float[n * size];
            for (var i = 0; i < batch.Length; i++)
            {
                batch[i] = pixels[(start * size) + i] / 255f;
            }

            int[] dims = [n, .. input.Dimensions.Skip(1)];
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("images", new DenseTensor<float>(batch, dims))]);
            var predicted = results.First(r => r.Name == "label").AsTensor<long>().ToArray();
            for (var i = 0; i < n; i++)
            {
                correct += predicted[i] == labels[start + i] ? 1 : 0;
            }
        }

        Console.WriteLine($"ONNX Runtime accuracy: {(double)correct / count:F4} ({correct} / {count})");

        // The same file in an ML.NET pipeline (flat [batch, 784] inputs, as the dense and variational models take).
        if (mlNet && input.Dimensions.Length == 2)
        {
            var ml = new MLContext(seed: 0);
            var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(i => new Digit
            {
                Images = pixels.AsSpan(i * size, size).ToArray().Select(p => p / 255f).ToArray(),
                Label = labels[i],
            }));
            var pipeline = ml.Transforms.ApplyOnnxModel(outputColumnNames: ["probabilities"], inputColumnNames: ["images"], modelFile: modelPath);
            var scored = pipeline.Fit(data).Transform(data);
            var mlCorrect = 0;
            foreach (var (row, i) in ml.Data.CreateEnumerable<Scored>(scored, reuseRowObject: false).Select((r, i) => (r, i)))
            {
                var best = 0;
                for (var c = 1; c < row.Probabilities.Length; c++)
                {
                    best = row.Probabilities[c] > row.Probabilities[best] ? c : best;
                }

                mlCorrect += best == labels[i] ? 1 : 0;
            }

            Console.WriteLine($"ML.NET ApplyOnnxModel accuracy: {(double)mlCorrect / count:F4} ({mlCorrect} / {count})");
        }

        return 0;
    }
}

/// <summary>One MNIST test image as ML.NET reads it.</summary>
internal sealed class Digit
{
    [ColumnName("images")]
    [VectorType(784)]
    public float[] Images { get; set; } = [];

    public long Label { get; set; }
}

/// <summary>ML.NET's output row.</summary>
internal sealed class Scored
{
    [ColumnName("probabilities")]
    public float[] Probabilities { get; set; } = [];
}

/// <summary>MNIST's IDX files, read without LatentKit (big-endian header, then bytes).</summary>
internal static class Idx
{
    private static readonly string[] TestFiles = ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>The test files that are in neither raw nor .gz form in <paramref name="folder"/>.</summary>
    public static string[] Missing(string folder) =>
        TestFiles.Where(n => !File.Exists(Path.Combine(folder, n)) && !File.Exists(Path.Combine(folder, n + ".gz"))).ToArray();

    public static string Find(string folder, string name)
    {
        foreach (var candidate in new[] { Path.Combine(folder, name), Path.Combine(folder, name + ".gz") })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"Neither {name} nor {name}.gz is in '{folder}'. Pass the folder holding MNIST's test files as the second argument.");
    }

    public static (byte[] Pixels, int Rows, int Columns) ReadImages(string path)
    {
        var bytes = Read(path);
        Check(bytes, 0x00000803, path);
        var (count, rows, columns) = (BigEndian(bytes, 4), BigEndian(bytes, 8), BigEndian(bytes, 12));
        if (bytes.Length != 16 + ((long)count * rows * columns))
        {
            throw new InvalidDataException($"'{path}' holds {bytes.Length} bytes; its header promises {count} images of {rows} x {columns}.");
        }

        return (bytes[16..], rows, columns);
    }

    public static byte[] ReadLabels(string path)
    {
        var bytes = Read(path);
        Check(bytes, 0x00000801, path);
        var count = BigEndian(bytes, 4);
        if (bytes.Length != 8 + count)
        {
            throw new InvalidDataException($"'{path}' holds {bytes.Length} bytes; its header promises {count} labels.");
        }

        return bytes[8..];
    }

    private static byte[] Read(string path)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    private static void Check(byte[] bytes, int magic, string path)
    {
        if (bytes.Length < 8 || BigEndian(bytes, 0) != magic)
        {
            throw new InvalidDataException($"'{path}' is not an IDX file of the expected kind (magic number 0x{magic:X8}).");
        }
    }

    private static int BigEndian(byte[] bytes, int offset) => System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset));
}
