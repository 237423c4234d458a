using System.IO.Compression;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// Usage: Serve <classifier.onnx> [folder with t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (or .gz)] [--no-mlnet]
// The default folder is LatentKit's cache: $LATENTKIT_HOME/mnist, else ~/.cache/latentkit/mnist.
if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
{
    Console.Error.WriteLine("Usage: Serve <classifier.onnx> [mnist folder] [--no-mlnet]");
    return 2;
}

var modelPath = args[0];
var positional = args.Skip(1).Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
var home = Environment.GetEnvironmentVariable("LATENTKIT_HOME");
var folder = positional.FirstOrDefault()
    ?? Path.Combine(string.IsNullOrWhiteSpace(home) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "latentkit") : home, "mnist");
var (pixels, rows, columns) = Idx.ReadImages(Idx.Find(folder, "t10k-images-idx3-ubyte"));
var labels = Idx.ReadLabels(Idx.Find(folder, "t10k-labels-idx1-ubyte"));
var count = labels.Length;
var size = rows * columns;

using var session = new InferenceSession(modelPath);
var metadata = session.ModelMetadata.CustomMetadataMap;
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
if (!args.Contains("--no-mlnet") && input.Dimensions.Length == 2)
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
