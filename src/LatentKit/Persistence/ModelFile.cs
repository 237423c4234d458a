using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using LatentKit.Models;
using LatentKit.Training;
using TorchSharp;

namespace LatentKit.Persistence;

/// <summary>Loads autoencoders saved with <see cref="IAutoencoder.Save"/>.</summary>
public static class AutoencoderFile
{
    /// <summary>
    /// Loads an autoencoder from a file written by <see cref="IAutoencoder.Save"/>, rebuilding the right concrete type
    /// (<see cref="DenseAutoencoder"/>, <see cref="ConvolutionalAutoencoder"/> or <see cref="VariationalAutoencoder"/>)
    /// from the file alone. The model is on the CPU.
    /// </summary>
    /// <exception cref="ModelFileException">The file is missing, not a LatentKit model file, truncated or damaged, holds another kind of model, or its weights do not match its architecture.</exception>
    public static IAutoencoder Load(string path) => ModelFile.LoadAutoencoder(path);
}

/// <summary>
/// The LatentKit model file: a zip archive holding <c>manifest.json</c> (format version, kind, architecture, training
/// options, LatentKit version, and the size and SHA-256 of each weights entry) and the weights as written by
/// TorchSharp's <c>Module.save</c>. Files are written to a temporary file in the target folder and renamed over the
/// target, so a reader never sees a half-written file.
/// </summary>
internal static class ModelFile
{
    public const string FormatName = "LatentKit model";
    public const int FormatVersion = 1;
    public const string ManifestEntry = "manifest.json";
    public const string AutoencoderWeightsEntry = "autoencoder.weights";
    public const string ClassifierWeightsEntry = "classifier.weights";
    public const string ClassifierKind = nameof(LatentClassifier);

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void SaveAutoencoder(AutoencoderBase model, string path)
    {
        var weights = WeightsOf(model.Network);
        var manifest = new Manifest
        {
            Format = FormatName,
            FormatVersion = FormatVersion,
            Kind = KindName(model.Spec.Kind),
            Autoencoder = model.Spec,
            AutoencoderTraining = TrainingSettings.From(model.DefaultTraining),
            Weights = [Describe(AutoencoderWeightsEntry, weights)],
        };
        Write(path, manifest, (AutoencoderWeightsEntry, weights));
    }

    public static void SaveClassifier(LatentClassifier classifier, string path)
    {
        var encoder = (AutoencoderBase)classifier.Autoencoder;
        var encoderWeights = WeightsOf(encoder.Network);
        var headWeights = WeightsOf(classifier.Head);
        var manifest = new Manifest
        {
            Format = FormatName,
            FormatVersion = FormatVersion,
            Kind = ClassifierKind,
            Autoencoder = encoder.Spec,
            AutoencoderTraining = TrainingSettings.From(encoder.DefaultTraining),
            Classifier = classifier.Spec,
            ClassifierTraining = TrainingSettings.From(classifier.DefaultTraining),
            Weights = [Describe(AutoencoderWeightsEntry, encoderWeights), Describe(ClassifierWeightsEntry, headWeights)],
        };
        Write(path, manifest, (AutoencoderWeightsEntry, encoderWeights), (ClassifierWeightsEntry, headWeights));
    }

    public static IAutoencoder LoadAutoencoder(string path)
    {
        using var archive = Open(path, out var manifest);
        if (manifest.Kind == ClassifierKind)
        {
            throw new ModelFileException(path, ModelFileError.WrongKind, $"'{path}' is a LatentClassifier file, not an autoencoder file: load it with LatentClassifier.Load.");
        }

        return RestoreAutoencoder(path, archive, manifest);
    }

    public static LatentClassifier LoadClassifier(string path)
    {
        using var archive = Open(path, out var manifest);
        if (manifest.Kind != ClassifierKind)
        {
            throw new ModelFileException(path, ModelFileError.WrongKind, $"'{path}' is a {manifest.Kind} file, not a LatentClassifier file: load it with AutoencoderFile.Load.");
        }

        if (manifest.Classifier is null)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: its manifest has no classifier architecture.");
        }

        var autoencoder = RestoreAutoencoder(path, archive, manifest);
        try
        {
            var classifier = new LatentClassifier(autoencoder, manifest.Classifier, manifest.ClassifierTraining?.ToOptions() ?? new TrainingOptions(), ownsAutoencoder: true, applySeed: false);
            try
            {
                LoadWeights(path, archive, manifest, ClassifierWeightsEntry, classifier.Head, $"classifier head ({manifest.Classifier.Head}, hidden [{string.Join(", ", manifest.Classifier.HiddenLayers)}])");
            }
            catch
            {
                classifier.Dispose();
                throw;
            }

            return classifier;
        }
        catch (ModelFileException)
        {
            autoencoder.Dispose();
            throw;
        }
    }

    private static AutoencoderBase RestoreAutoencoder(string path, ZipArchive archive, Manifest manifest)
    {
        if (manifest.Autoencoder is null)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: its manifest has no autoencoder architecture.");
        }

        var spec = manifest.Autoencoder;
        if (manifest.Kind != ClassifierKind && manifest.Kind != KindName(spec.Kind))
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is damaged: its manifest says kind '{manifest.Kind}' but describes a {spec.Kind} autoencoder.");
        }

        AutoencoderBase model;
        try
        {
            Building.AutoencoderFactory.Validate(spec);
            model = Building.AutoencoderFactory.Create(spec, manifest.AutoencoderTraining?.ToOptions() ?? new TrainingOptions(), applySeed: false);
        }
        catch (ArgumentException e)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is damaged: its manifest describes an invalid architecture ({e.Message})", e);
        }

        try
        {
            LoadWeights(path, archive, manifest, AutoencoderWeightsEntry, model.Network, $"{spec.Kind} autoencoder (latent {spec.LatentSize}, layers [{string.Join(", ", spec.Layers)}])");
        }
        catch
        {
            model.Dispose();
            throw;
        }

        return model;
    }

    private static ZipArchive Open(string path, out Manifest manifest)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new ModelFileException(path, ModelFileError.Missing, $"Model file '{path}' does not exist.");
        }

        var info = new FileInfo(path);
        if (info.Length == 0)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is empty: a truncated or damaged LatentKit model file.");
        }

        var header = new byte[4];
        using (var probe = File.OpenRead(path))
        {
            var read = probe.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            if (read < 4 || header[0] != (byte)'P' || header[1] != (byte)'K' || header[2] != 3 || header[3] != 4)
            {
                throw new ModelFileException(path, ModelFileError.NotAModelFile, $"'{path}' is not a LatentKit model file (it is not a zip archive).");
            }
        }

        ZipArchive archive;
        try
        {
            archive = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: its archive directory cannot be read ({e.Message}).", e);
        }

        try
        {
            var entry = archive.GetEntry(ManifestEntry)
                ?? throw new ModelFileException(path, ModelFileError.NotAModelFile, $"'{path}' is not a LatentKit model file: the archive has no {ManifestEntry}.");
            Manifest? parsed;
            try
            {
                using var stream = entry.Open();
                parsed = JsonSerializer.Deserialize<Manifest>(stream, Json);
            }
            catch (Exception e) when (e is JsonException or InvalidDataException or IOException)
            {
                throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: its manifest cannot be read ({e.Message}).", e);
            }

            if (parsed is null || parsed.Format != FormatName)
            {
                throw new ModelFileException(path, ModelFileError.NotAModelFile, $"'{path}' is not a LatentKit model file: its manifest is not a '{FormatName}' manifest.");
            }

            if (parsed.FormatVersion > FormatVersion || parsed.FormatVersion < 1)
            {
                throw new ModelFileException(path, ModelFileError.UnsupportedVersion, $"'{path}' uses LatentKit model format {parsed.FormatVersion} (written by LatentKit {parsed.LatentKitVersion}); this LatentKit {LatentKitInfo.Version} reads format {FormatVersion}.");
            }

            manifest = parsed;
            return archive;
        }
        catch
        {
            archive.Dispose();
            throw;
        }
    }

    private static void LoadWeights(string path, ZipArchive archive, Manifest manifest, string entryName, torch.nn.Module module, string description)
    {
        var expected = manifest.Weights?.FirstOrDefault(w => w.Entry == entryName);
        var entry = archive.GetEntry(entryName);
        if (expected is null || entry is null)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: the weights entry '{entryName}' is missing.");
        }

        byte[] bytes;
        try
        {
            using var stream = entry.Open();
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            bytes = memory.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: the weights entry '{entryName}' cannot be read ({e.Message}).", e);
        }

        if (bytes.LongLength != expected.Bytes || Convert.ToHexString(SHA256.HashData(bytes)) != expected.Sha256)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: the weights entry '{entryName}' does not match the size and checksum in its manifest.");
        }

        try
        {
            using var noGrad = torch.no_grad();
            module.load(new MemoryStream(bytes), strict: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ModelFileException(path, ModelFileError.WeightsMismatch, $"'{path}': the weights in '{entryName}' do not match the architecture in its manifest, a {description} ({e.Message}).", e);
        }
    }

    private static void Write(string path, Manifest manifest, params (string Entry, byte[] Bytes)[] weights)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                using (var archive = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true))
                {
                    var manifestEntry = archive.CreateEntry(ManifestEntry, CompressionLevel.Optimal);
                    using (var stream = manifestEntry.Open())
                    {
                        JsonSerializer.Serialize(stream, manifest, Json);
                    }

                    foreach (var (entryName, bytes) in weights)
                    {
                        var entry = archive.CreateEntry(entryName, CompressionLevel.NoCompression);
                        using var stream = entry.Open();
                        stream.Write(bytes);
                    }
                }

                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
                // The temporary file is left behind; the target file is untouched.
            }

            throw;
        }
    }

    private static byte[] WeightsOf(torch.nn.Module module)
    {
        using var memory = new MemoryStream();
        module.save(memory);
        return memory.ToArray();
    }

    private static WeightsEntry Describe(string entry, byte[] bytes) => new(entry, bytes.LongLength, Convert.ToHexString(SHA256.HashData(bytes)));

    private static string KindName(AutoencoderKind kind) => kind switch
    {
        AutoencoderKind.Dense => nameof(DenseAutoencoder),
        AutoencoderKind.Convolutional => nameof(ConvolutionalAutoencoder),
        AutoencoderKind.Variational => nameof(VariationalAutoencoder),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown autoencoder kind."),
    };

    internal sealed record WeightsEntry(string Entry, long Bytes, string Sha256);

    internal sealed record Manifest
    {
        public string Format { get; init; } = string.Empty;

        public int FormatVersion { get; init; }

        public string Kind { get; init; } = string.Empty;

        public string LatentKitVersion { get; init; } = LatentKitInfo.Version;

        public DateTimeOffset SavedAt { get; init; } = DateTimeOffset.UtcNow;

        public AutoencoderSpec? Autoencoder { get; init; }

        public TrainingSettings? AutoencoderTraining { get; init; }

        public ClassifierSpec? Classifier { get; init; }

        public TrainingSettings? ClassifierTraining { get; init; }

        public WeightsEntry[]? Weights { get; init; }
    }

    /// <summary>The serialisable part of <see cref="TrainingOptions"/> (no device, no validation dataset).</summary>
    internal sealed record TrainingSettings(
        int Epochs,
        int BatchSize,
        double LearningRate,
        OptimizerKind Optimizer,
        double Momentum,
        double WeightDecay,
        int Seed,
        int? Threads,
        double? ValidationFraction,
        int? EarlyStoppingPatience)
    {
        public static TrainingSettings From(TrainingOptions o) =>
            new(o.Epochs, o.BatchSize, o.LearningRate, o.Optimizer, o.Momentum, o.WeightDecay, o.Seed, o.Threads, o.ValidationFraction, o.ValidationSet is null ? o.EarlyStoppingPatience : null);

        public TrainingOptions ToOptions() => new()
        {
            Epochs = Epochs,
            BatchSize = BatchSize,
            LearningRate = LearningRate,
            Optimizer = Optimizer,
            Momentum = Momentum,
            WeightDecay = WeightDecay,
            Seed = Seed,
            Threads = Threads,
            ValidationFraction = ValidationFraction,
            EarlyStoppingPatience = EarlyStoppingPatience,
        };
    }
}
