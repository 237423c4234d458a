using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;

namespace LatentKit;

/// <summary>Loads autoencoders saved with <see cref="IAutoencoder.Save"/>.</summary>
public static partial class AutoencoderFile
{
    /// <summary>
    /// Loads an autoencoder from a file written by <see cref="IAutoencoder.Save"/>, rebuilding the right concrete type
    /// (<see cref="DenseAutoencoder"/>, <see cref="ConvolutionalAutoencoder"/>, <see cref="VariationalAutoencoder"/> or
    /// <see cref="ConvolutionalVariationalAutoencoder"/>) from the file alone, with its input shape, output activation,
    /// loss and standardizer. Files of format 1 (before issue 8) load as 1 x 28 x 28 models. The model is on the CPU.
    /// </summary>
    /// <remarks>
    /// Every manifest field is checked with the builders' rules and <see cref="LatentKit.ModelLimits"/> before anything
    /// is allocated, and the weights are read (up to the size the architecture implies) and verified before the
    /// network is created.
    /// </remarks>
    /// <exception cref="ModelFileException">The file is missing, not a LatentKit model file, truncated or damaged (including a manifest field the builders would refuse, named in the message), of a newer format, holds another kind of model, or its weights do not match its architecture.</exception>
    public static IAutoencoder Load(string path) => ModelFile.LoadAutoencoder(path);
}

/// <summary>
/// The LatentKit model file: a zip archive holding <c>manifest.json</c> (format version, kind, architecture, training
/// options, LatentKit version, and the size and SHA-256 of each weights entry) and the weights as written by
/// TorchSharp's <c>Module.save</c>. Files are written to a temporary file in the target folder and renamed over the
/// target, so a reader never sees a half-written file.
/// </summary>
internal static partial class ModelFile
{
    public const string FormatName = "LatentKit model";
    /// <summary>
    /// The format written. 2 (issue 8) adds the input shape, the standardizer, the convolutional VAE kind and the
    /// classifier's class count and names; format 1 files (1 x 28 x 28, 10 classes) still load, the missing fields
    /// taking those values.
    /// </summary>
    public const int FormatVersion = 2;
    public const string ManifestEntry = "manifest.json";
    public const string AutoencoderWeightsEntry = "autoencoder.weights";
    public const string ClassifierWeightsEntry = "classifier.weights";
    public const string ClassifierKind = nameof(LatentClassifier);
    public const string DetectorKind = nameof(AnomalyDetector);
    public const string DetectorEntry = "detector.json";

    /// <summary>The largest manifest read (LatentKit writes about 1 KB); a larger one is damaged and is not read.</summary>
    public const int MaxManifestBytes = 1 << 20;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void SaveAutoencoder(AutoencoderBase model, string path) => WriteAtomically(path, stream => WriteAutoencoder(model, stream));

    public static void SaveClassifier(LatentClassifier classifier, string path) => WriteAtomically(path, stream => WriteClassifier(classifier, stream));

    /// <summary>The model file of a model being trained (an autoencoder or a classifier), as bytes, for a checkpoint.</summary>
    public static byte[] ToBytes(object model)
    {
        using var memory = new MemoryStream();
        switch (model)
        {
            case AutoencoderBase autoencoder:
                WriteAutoencoder(autoencoder, memory);
                break;
            case LatentClassifier classifier:
                WriteClassifier(classifier, memory);
                break;
            default:
                throw new ArgumentException($"{model.GetType().Name} cannot be written as a model file.", nameof(model));
        }

        return memory.ToArray();
    }

    /// <summary>
    /// The architecture a model file describes (kind, autoencoder, classifier and custom network specs, as JSON), read
    /// from its manifest, without the builders' seeds: two models with the same text have the same architecture. With
    /// <paramref name="withEncoderWeights"/> the checksum of the autoencoder's weights is included (a classifier with
    /// a frozen encoder: its encoder is not trained, so a checkpoint must have been written on the same one).
    /// </summary>
    public static string ArchitectureOf(string path, byte[] modelFile, bool withEncoderWeights)
    {
        using var archive = OpenArchive(path, new MemoryStream(modelFile, writable: false));
        var manifest = ReadManifest(path, archive);
        var encoder = withEncoderWeights ? manifest.Weights?.FirstOrDefault(w => w?.Entry == AutoencoderWeightsEntry)?.Sha256 : null;
        // The builders' seeds only set the initial weights, which a checkpoint replaces: they are not architecture.
        var autoencoder = manifest.Autoencoder is { } a ? a with { Seed = null } : null;
        var classifier = manifest.Classifier is { } c ? c with { Seed = null } : null;
        return JsonSerializer.Serialize(new { manifest.Kind, autoencoder, classifier, manifest.Custom, encoder }, Json);
    }

    private static ZipArchive OpenArchive(string path, Stream stream)
    {
        try
        {
            var archive = new ZipArchive(stream, ZipArchiveMode.Read);
            _ = archive.Entries.Count;
            return archive;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: its archive directory cannot be read ({e.Message}).", e);
        }
    }

    private static void WriteAutoencoder(AutoencoderBase model, Stream stream)
    {
        var weights = WeightsOf(model.Network);
        var manifest = new Manifest
        {
            Format = FormatName,
            FormatVersion = FormatVersion,
            Kind = KindName(model.Spec.Kind),
            Autoencoder = model.Spec,
            AutoencoderTraining = TrainingSettings.From(model.DefaultTraining),
            Custom = CustomSpecOf(model),
            Weights = [Describe(AutoencoderWeightsEntry, weights)],
        };
        WriteArchive(stream, manifest, (AutoencoderWeightsEntry, weights));
    }

    private static void WriteClassifier(LatentClassifier classifier, Stream stream)
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
            Custom = CustomSpecOf(encoder),
            Classifier = classifier.Spec,
            ClassifierTraining = TrainingSettings.From(classifier.DefaultTraining),
            Weights = [Describe(AutoencoderWeightsEntry, encoderWeights), Describe(ClassifierWeightsEntry, headWeights)],
        };
        WriteArchive(stream, manifest, (AutoencoderWeightsEntry, encoderWeights), (ClassifierWeightsEntry, headWeights));
    }

    /// <summary>Writes an anomaly detector: the autoencoder as in a model file plus the detector's state entry (checksummed like the weights).</summary>
    public static void SaveDetector(AutoencoderBase model, string path, byte[] detectorState)
    {
        var weights = WeightsOf(model.Network);
        var manifest = new Manifest
        {
            Format = FormatName,
            FormatVersion = FormatVersion,
            Kind = DetectorKind,
            Autoencoder = model.Spec,
            AutoencoderTraining = TrainingSettings.From(model.DefaultTraining),
            Custom = CustomSpecOf(model),
            Weights = [Describe(AutoencoderWeightsEntry, weights), Describe(DetectorEntry, detectorState)],
        };
        WriteAtomically(path, stream => WriteArchive(stream, manifest, (AutoencoderWeightsEntry, weights), (DetectorEntry, detectorState)));
    }

    /// <summary>
    /// Reads an anomaly detector file: the autoencoder (checked as in <see cref="LoadAutoencoder"/>) and the verified
    /// bytes of the detector's state entry, at most <paramref name="maxStateBytes"/> for the file's architecture.
    /// </summary>
    public static (AutoencoderBase Model, byte[] State) LoadDetector(string path, Func<AutoencoderSpec, long> maxStateBytes, CustomModules? modules = null)
    {
        using var archive = Open(path, out var manifest);
        if (manifest.Kind != DetectorKind)
        {
            throw new ModelFileException(path, ModelFileError.WrongKind, $"'{path}' is a {manifest.Kind} file, not an AnomalyDetector file: load it with {LoaderOf(manifest.Kind)}.");
        }

        var (spec, training) = CheckAutoencoder(path, manifest);
        var custom = CheckCustom(path, manifest, spec, modules, "AnomalyDetector.LoadCustom(path, encoder, decoder)", "AnomalyDetector.Load(path)");
        var (expected, entry) = FindEntry(path, archive, manifest, DetectorEntry);
        var limit = maxStateBytes(spec);
        if (expected.Bytes < 1 || expected.Bytes > limit)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is damaged: its manifest gives {expected.Bytes} bytes for '{DetectorEntry}', and a detector for a latent size of {spec.LatentSize} takes 1 to {limit}.");
        }

        var state = ReadVerified(path, entry, expected);
        var weights = ReadWeights(path, archive, manifest, AutoencoderWeightsEntry, custom?.Layout ?? AutoencoderFactory.Layout(spec));
        return (RestoreAutoencoder(path, spec, training, weights, custom), state);
    }

    public static AutoencoderBase LoadAutoencoder(string path, CustomModules? modules = null)
    {
        using var archive = Open(path, out var manifest);
        if (manifest.Kind is ClassifierKind or DetectorKind)
        {
            throw new ModelFileException(path, ModelFileError.WrongKind, $"'{path}' is a {manifest.Kind} file, not an autoencoder file: load it with {LoaderOf(manifest.Kind)}.");
        }

        var (spec, training) = CheckAutoencoder(path, manifest);
        var custom = CheckCustom(path, manifest, spec, modules, "AutoencoderFile.LoadCustom(path, encoder, decoder)", "AutoencoderFile.Load(path)");
        var weights = ReadWeights(path, archive, manifest, AutoencoderWeightsEntry, custom?.Layout ?? AutoencoderFactory.Layout(spec));
        return RestoreAutoencoder(path, spec, training, weights, custom);
    }

    public static LatentClassifier LoadClassifier(string path, CustomModules? modules = null)
    {
        using var archive = Open(path, out var manifest);
        if (manifest.Kind != ClassifierKind)
        {
            throw new ModelFileException(path, ModelFileError.WrongKind, $"'{path}' is a {manifest.Kind} file, not a LatentClassifier file: load it with {LoaderOf(manifest.Kind)}.");
        }

        // Everything in the manifest is checked, and both weights entries read and verified, before any weights are
        // allocated: what is allocated is then no larger than what the file holds.
        var (spec, training) = CheckAutoencoder(path, manifest);
        var custom = CheckCustom(path, manifest, spec, modules, "LatentClassifier.LoadCustom(path, encoder, decoder)", "LatentClassifier.Load(path)");
        var classifierSpec = manifest.Classifier
            ?? throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: its manifest has no classifier architecture.");
        CheckField(path, "classifier", () => AutoencoderFactory.ValidateClassifier(classifierSpec, spec.LatentSize), ClassifierFields);
        var classifierTraining = CheckTraining(path, "classifierTraining", manifest.ClassifierTraining);
        var autoencoderWeights = ReadWeights(path, archive, manifest, AutoencoderWeightsEntry, custom?.Layout ?? AutoencoderFactory.Layout(spec));
        var headWeights = ReadWeights(path, archive, manifest, ClassifierWeightsEntry, AutoencoderFactory.ClassifierLayout(classifierSpec, spec.LatentSize));

        AutoencoderBase? autoencoder = null;
        LatentClassifier? classifier = null;
        try
        {
            autoencoder = RestoreAutoencoder(path, spec, training, autoencoderWeights, custom);
            classifier = new LatentClassifier(autoencoder, classifierSpec, classifierTraining, ownsAutoencoder: true, applySeed: false);
            LoadWeights(path, ClassifierWeightsEntry, headWeights, classifier.Head, $"classifier head ({classifierSpec.Head}, hidden [{string.Join(", ", classifierSpec.HiddenLayers)}])");
            return classifier;
        }
        catch
        {
            // The classifier owns the autoencoder; before it exists the autoencoder is disposed on its own. A custom
            // autoencoder's modules are the caller's until the load succeeds: only the head is disposed then.
            if (custom is not null)
            {
                classifier?.Head.Dispose();
            }
            else if (classifier is not null)
            {
                classifier.Dispose();
            }
            else
            {
                autoencoder?.Dispose();
            }

            throw;
        }
    }

    /// <summary>Checks the autoencoder part of the manifest (architecture, kind, training defaults) with the builders' rules.</summary>
    private static (AutoencoderSpec Spec, TrainingOptions Training) CheckAutoencoder(string path, Manifest manifest)
    {
        var spec = manifest.Autoencoder
            ?? throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: its manifest has no autoencoder architecture.");
        CheckField(path, "autoencoder", () => AutoencoderFactory.Validate(spec), AutoencoderFields);
        if (manifest.Kind is not (ClassifierKind or DetectorKind) && manifest.Kind != KindName(spec.Kind))
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is damaged: its manifest says kind '{manifest.Kind}' but describes a {spec.Kind} autoencoder.");
        }

        return (spec, CheckTraining(path, "autoencoderTraining", manifest.AutoencoderTraining));
    }

    /// <summary>The stored training defaults (TrainingOptions' own defaults when absent), checked by <see cref="TrainingOptions.Validate"/>.</summary>
    private static TrainingOptions CheckTraining(string path, string section, TrainingSettings? settings)
    {
        var options = settings?.ToOptions() ?? new TrainingOptions();
        CheckField(path, section, options.Validate, static p => p is null ? null : JsonNamingPolicy.CamelCase.ConvertName(p));
        return options;
    }

    /// <summary>Runs a builder rule on a manifest section; a broken rule becomes <see cref="ModelFileError.Damaged"/> naming the manifest field.</summary>
    private static void CheckField(string path, string section, Action validate, Func<string?, string?> field)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            var name = field(e.ParamName);
            var where = name is null ? section : $"{section}.{name}";
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is damaged: its manifest field '{where}' is invalid: {AutoencoderFactory.RuleMessage(e)}", e);
        }
    }

    /// <summary>Builder parameter names of the autoencoder rules to manifest fields.</summary>
    private static string? AutoencoderFields(string? parameter) => parameter switch
    {
        "widths" or "channels" => "layers",
        "shape" => "inputShape",
        "standardizer" => "standardizerMean",
        "noiseStd" => "denoisingNoiseStd",
        "maskFraction" => "denoisingMaskFraction",
        _ => parameter,
    };

    /// <summary>Builder parameter names of the classifier rules to manifest fields.</summary>
    private static string? ClassifierFields(string? parameter) => parameter switch
    {
        "widths" => "hiddenLayers",
        "probability" => "dropout",
        _ => parameter,
    };

    private static AutoencoderBase RestoreAutoencoder(string path, AutoencoderSpec spec, TrainingOptions training, byte[] weights, CustomLoad? custom)
    {
        var model = custom is null ? AutoencoderFactory.Create(spec, training, applySeed: false) : Autoencoders.CreateCustom(spec, training, custom.Parts);
        try
        {
            LoadWeights(path, AutoencoderWeightsEntry, weights, model.Network, $"{spec.Kind} autoencoder (latent {spec.LatentSize}, layers [{string.Join(", ", spec.Layers)}])");
        }
        catch
        {
            if (custom is null)
            {
                model.Dispose();
            }

            throw;
        }

        return model;
    }

    private static ZipArchive Open(string path, out Manifest manifest)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (FilePaths.FileProblem(path) is { } problem)
        {
            throw new ModelFileException(path, ModelFileError.Missing, $"Model file '{path}' {problem}");
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
            try
            {
                // The central directory may be read lazily; read it here, where its errors are reported as damage.
                _ = archive.Entries.Count;
            }
            catch
            {
                archive.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: its archive directory cannot be read ({e.Message}).", e);
        }

        try
        {
            manifest = ReadManifest(path, archive);
            return archive;
        }
        catch
        {
            archive.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the manifest (at most <see cref="MaxManifestBytes"/>), checks the format name and version on the raw JSON,
    /// and only then reads it into the typed manifest, so a newer file with values this version does not know (an
    /// activation or optimizer name) is reported as <see cref="ModelFileError.UnsupportedVersion"/>, not as damaged.
    /// </summary>
    private static Manifest ReadManifest(string path, ZipArchive archive)
    {
        var entry = archive.GetEntry(ManifestEntry)
            ?? throw new ModelFileException(path, ModelFileError.NotAModelFile, $"'{path}' is not a LatentKit model file: the archive has no {ManifestEntry}.");
        if (entry.Length > MaxManifestBytes)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is damaged: its {ManifestEntry} is {entry.Length} bytes, more than the {MaxManifestBytes} a LatentKit manifest can be.");
        }

        var bytes = ReadEntry(path, entry, ManifestEntry, MaxManifestBytes);
        string? format;
        int version;
        string? writtenBy;
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 });
            var root = document.RootElement;
            format = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            if (format != FormatName)
            {
                throw new ModelFileException(path, ModelFileError.NotAModelFile, $"'{path}' is not a LatentKit model file: its manifest is not a '{FormatName}' manifest.");
            }

            version = root.TryGetProperty("formatVersion", out var v) ? v.GetInt32() : 0;
            writtenBy = root.TryGetProperty("latentKitVersion", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString() : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: its manifest cannot be read ({e.Message}).", e);
        }

        if (version > FormatVersion || version < 1)
        {
            throw new ModelFileException(path, ModelFileError.UnsupportedVersion, $"'{path}' uses LatentKit model format {version} (written by LatentKit {writtenBy ?? "unknown"}); this LatentKit {LatentKitInfo.Version} reads format {FormatVersion}.");
        }

        Manifest? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<Manifest>(bytes, Json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: its manifest cannot be read ({e.Message}).", e);
        }

        return parsed ?? throw new ModelFileException(path, ModelFileError.NotAModelFile, $"'{path}' is not a LatentKit model file: its manifest is not a '{FormatName}' manifest.");
    }

    /// <summary>
    /// Reads and verifies a weights entry: its size in the manifest must fit the architecture (the weights of
    /// <paramref name="layout"/> plus TorchSharp's headers) and equal the entry's size, before a byte is read; then at
    /// most that many bytes are read and their SHA-256 compared with the manifest.
    /// </summary>
    private static byte[] ReadWeights(string path, ZipArchive archive, Manifest manifest, string entryName, WeightsLayout layout)
    {
        var (expected, entry) = FindEntry(path, archive, manifest, entryName);
        if (expected.Bytes < layout.MinBytes || expected.Bytes > layout.MaxBytes)
        {
            throw new ModelFileException(path, ModelFileError.WeightsMismatch, $"'{path}': the weights in '{entryName}' do not match the architecture in its manifest: the manifest gives {expected.Bytes} bytes, and its architecture ({layout.Values} values in {layout.Tensors} tensors) takes {layout.MinBytes} to {layout.MaxBytes}.");
        }

        return ReadVerified(path, entry, expected);
    }

    /// <summary>The manifest's description of a checksummed entry and the archive's entry; either missing is damage.</summary>
    private static (WeightsEntry Expected, ZipArchiveEntry Entry) FindEntry(string path, ZipArchive archive, Manifest manifest, string entryName)
    {
        if (manifest.Weights is null || Array.Exists(manifest.Weights, w => w is null))
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is damaged: its manifest field 'weights' is {(manifest.Weights is null ? "missing" : "holding an empty entry")}.");
        }

        var expected = manifest.Weights.FirstOrDefault(w => w.Entry == entryName);
        var entry = archive.GetEntry(entryName);
        if (expected is null || entry is null)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: the entry '{entryName}' is missing.");
        }

        return (expected, entry);
    }

    /// <summary>Reads an entry whose size was already checked against its bounds, and verifies its size and SHA-256 against the manifest.</summary>
    private static byte[] ReadVerified(string path, ZipArchiveEntry entry, WeightsEntry expected)
    {
        var entryName = expected.Entry;
        if (entry.Length != expected.Bytes)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: the entry '{entryName}' is {entry.Length} bytes but its manifest gives {expected.Bytes}.");
        }

        var bytes = ReadEntry(path, entry, entryName, expected.Bytes);
        if (bytes.LongLength != expected.Bytes || !string.Equals(Convert.ToHexString(SHA256.HashData(bytes)), expected.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: the entry '{entryName}' does not match the size and checksum in its manifest.");
        }

        return bytes;
    }

    /// <summary>The call that loads a file of <paramref name="kind"/>.</summary>
    private static string LoaderOf(string kind) => kind switch
    {
        ClassifierKind => "LatentClassifier.Load",
        DetectorKind => "AnomalyDetector.Load",
        _ => "AutoencoderFile.Load",
    };

    /// <summary>Reads at most <paramref name="limit"/> bytes of an entry; an entry that holds more is damaged (its header lied), and reading stops there.</summary>
    internal static byte[] ReadEntry(string path, ZipArchiveEntry entry, string entryName, long limit)
    {
        try
        {
            using var stream = entry.Open();
            using var memory = new MemoryStream((int)Math.Min(Math.Max(entry.Length, 0), Math.Min(limit, 1 << 20)));
            var buffer = new byte[81920];
            while (true)
            {
                var room = (int)Math.Min(buffer.Length, limit + 1 - memory.Length);
                var read = stream.Read(buffer, 0, room);
                if (read == 0)
                {
                    break;
                }

                memory.Write(buffer, 0, read);
                if (memory.Length > limit)
                {
                    throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is damaged: the entry '{entryName}' holds more than the {limit} bytes it should; reading stopped there.");
                }
            }

            return memory.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
        {
            throw new ModelFileException(path, ModelFileError.Damaged, $"'{path}' is truncated or damaged: the entry '{entryName}' cannot be read ({e.Message}).", e);
        }
    }

    internal static void LoadWeights(string path, string entryName, byte[] bytes, torch.nn.Module module, string description)
    {
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

    /// <summary>
    /// Writes a file through <paramref name="write"/> to a temporary file in the target folder (only that file is
    /// deleted on failure), flushes it to disk and renames it over <paramref name="path"/>: a reader never sees a
    /// half-written file. Model files and checkpoints are written this way. The target is checked first
    /// (<see cref="FilePaths.CheckWriteTarget"/>): an existing folder or a path ending in a separator is refused before
    /// any folder is created or anything is written. Folders this write created are removed again when it fails.
    /// </summary>
    /// <exception cref="ArgumentException">The path is an existing folder or ends in a separator; the message names it.</exception>
    /// <exception cref="IOException">The file cannot be written; the message names <paramref name="path"/> (not the temporary file) and the reason.</exception>
    /// <exception cref="UnauthorizedAccessException">Writing there is not allowed; the message names <paramref name="path"/>.</exception>
    internal static void WriteAtomically(string path, Action<Stream> write)
    {
        var full = FilePaths.CheckWriteTarget(path, nameof(path));
        var folder = Path.GetDirectoryName(full)!;
        var created = FirstMissingFolder(folder);
        string? temporary = null;
        try
        {
            Directory.CreateDirectory(folder);
            temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch (IOException e)
        {
            Clean(temporary, created, folder);
            throw new IOException(WriteFailure(path, temporary, e), e);
        }
        catch (UnauthorizedAccessException e)
        {
            Clean(temporary, created, folder);
            throw new UnauthorizedAccessException(WriteFailure(path, temporary, e), e);
        }
        catch
        {
            Clean(temporary, created, folder);
            throw;
        }
    }

    /// <summary>The message of a failed write: names the target, not the temporary file the failure may be about.</summary>
    private static string WriteFailure(string path, string? temporary, Exception e)
    {
        var reason = e.Message.ReplaceLineEndings(" ").TrimEnd();
        if (temporary is not null)
        {
            reason = reason.Replace(temporary, "(a temporary file beside the target)", StringComparison.Ordinal);
        }

        return $"Cannot write '{path}': {reason} Check that its folder exists or can be created and is writable, and that '{path}' is a file path that is not in use; nothing was written to it.";
    }

    /// <summary>The outermost folder of <paramref name="folder"/> that does not exist yet (created by the write), or <see langword="null"/>.</summary>
    private static string? FirstMissingFolder(string folder)
    {
        string? missing = null;
        for (var current = folder; !string.IsNullOrEmpty(current) && !Directory.Exists(current) && !File.Exists(current); current = Path.GetDirectoryName(current))
        {
            missing = current;
        }

        return missing;
    }

    /// <summary>After a failed write: deletes the temporary file and the folders the write created (only if still empty).</summary>
    private static void Clean(string? temporary, string? created, string folder)
    {
        try
        {
            if (temporary is not null)
            {
                File.Delete(temporary);
            }

            for (var current = folder; created is not null && current is not null && current.Length >= created.Length; current = Path.GetDirectoryName(current))
            {
                if (Directory.Exists(current) && !Directory.EnumerateFileSystemEntries(current).Any())
                {
                    Directory.Delete(current);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind: the target file is untouched.
        }
    }

    private static void WriteArchive(Stream file, Manifest manifest, params (string Entry, byte[] Bytes)[] weights)
    {
        using var archive = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true);
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

    internal static byte[] WeightsOf(torch.nn.Module module)
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
        AutoencoderKind.ConvolutionalVariational => nameof(ConvolutionalVariationalAutoencoder),
        AutoencoderKind.Custom => nameof(CustomAutoencoder),
        AutoencoderKind.CustomVariational => nameof(CustomVariationalAutoencoder),
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

        /// <summary>A custom autoencoder's input shape and tensor names, shapes and types; absent for built-in models.</summary>
        public CustomNetworkSpec? Custom { get; init; }

        public WeightsEntry[]? Weights { get; init; }
    }

    /// <summary>
    /// The serialisable <see cref="TrainingOptions"/>. <c>Threads</c> and <c>EarlyStoppingPatience</c> were written by
    /// files made before they moved to <see cref="TrainingRun"/> and the <see cref="EarlyStopping"/> callback: they are
    /// read and ignored, and written as null.
    /// The schedule settings are absent from files written before they were stored, and then take their defaults.
    /// </summary>
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
        int? EarlyStoppingPatience,
        LearningRateSchedule? LearningRateSchedule = null,
        int? LearningRateStepEpochs = null,
        double? LearningRateStepFactor = null)
    {
        private static readonly TrainingOptions Defaults = new();

        public static TrainingSettings From(TrainingOptions o) =>
            new(o.Epochs, o.BatchSize, o.LearningRate, o.Optimizer, o.Momentum, o.WeightDecay, o.Seed, Threads: null, o.ValidationFraction, EarlyStoppingPatience: null, o.LearningRateSchedule, o.LearningRateStepEpochs, o.LearningRateStepFactor);

        public TrainingOptions ToOptions() => new()
        {
            Epochs = Epochs,
            BatchSize = BatchSize,
            LearningRate = LearningRate,
            Optimizer = Optimizer,
            Momentum = Momentum,
            WeightDecay = WeightDecay,
            Seed = Seed,
            ValidationFraction = ValidationFraction,
            LearningRateSchedule = LearningRateSchedule ?? Defaults.LearningRateSchedule,
            LearningRateStepEpochs = LearningRateStepEpochs ?? Defaults.LearningRateStepEpochs,
            LearningRateStepFactor = LearningRateStepFactor ?? Defaults.LearningRateStepFactor,
        };
    }
}
