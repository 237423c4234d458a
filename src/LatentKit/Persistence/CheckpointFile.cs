using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentKit;

/// <summary>
/// The LatentKit checkpoint: a zip archive holding <c>manifest.json</c> (format, epoch reached, training options,
/// learning-rate factor, optimizer step counts, epoch history, built-in callbacks' state, and the size and SHA-256 of
/// every other entry), the model as a model file (<c>model.lkm</c>), the trained network's weights, the remembered
/// best weights (when a callback remembered some), the optimizers' state tensors, the noise generator's state and, for a
/// custom network (whose own random layers draw from it), TorchSharp's global generator's state.
/// Written atomically (temporary file, then rename); every entry's size is checked against what the model being
/// resumed implies before it is read.
/// </summary>
internal static class CheckpointFile
{
    public const string FormatName = "LatentKit checkpoint";
    public const int FormatVersion = 1;
    public const string ManifestEntry = "manifest.json";
    public const string ModelEntry = "model.lkm";
    public const string NetworkEntry = "network.weights";
    public const string BestEntry = "best.weights";
    public const string OptimizerEntry = "optimizer.state";
    public const string GeneratorEntry = "generator.state";
    public const string GlobalGeneratorEntry = "global-generator.state";

    /// <summary>The largest manifest read (about 150 bytes per epoch of history).</summary>
    public const int MaxManifestBytes = 16 << 20;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>What the loop needs back from a checkpoint besides the state restored in place.</summary>
    internal sealed record Resumed(int Epoch, double LearningRateFactor, List<EpochResult> History, double BestValidationLoss, int? BestValidationEpoch, Dictionary<string, Tensor>? BestWeights, int? BestWeightsEpoch);

    internal sealed record CallbackEntry(int Index, string Type, Dictionary<string, double> State);

    internal sealed record Manifest
    {
        public string Format { get; init; } = string.Empty;

        public int FormatVersion { get; init; }

        public string LatentKitVersion { get; init; } = LatentKitInfo.Version;

        public DateTimeOffset SavedAt { get; init; } = DateTimeOffset.UtcNow;

        public int Epoch { get; init; }

        public ModelFile.TrainingSettings? Training { get; init; }

        public double LearningRateFactor { get; init; }

        public long[]? OptimizerSteps { get; init; }

        public double? BestValidationLoss { get; init; }

        public int? BestValidationEpoch { get; init; }

        /// <summary>The epoch of the best weights a callback kept; absent without them.</summary>
        public int? BestWeightsEpoch { get; init; }

        /// <summary>Training samples of the run (absent in checkpoints written before it was recorded).</summary>
        public int? TrainingSamples { get; init; }

        /// <summary>Validation samples of the run, 0 without validation (absent in checkpoints written before it was recorded).</summary>
        public int? ValidationSamples { get; init; }

        public EpochResult[]? History { get; init; }

        public CallbackEntry[]? Callbacks { get; init; }

        public ModelFile.WeightsEntry[]? Entries { get; init; }
    }

    /// <summary>Writes the state after <paramref name="epoch"/> (and after its callbacks) to <paramref name="path"/>, atomically.</summary>
    public static void Write(
        string path,
        ITrainable model,
        TrainingOptions options,
        int epoch,
        double learningRateFactor,
        IReadOnlyList<EpochResult> history,
        double bestValidationLoss,
        int? bestValidationEpoch,
        IReadOnlyList<TrainingOptimizer> optimizers,
        Generator noise,
        IReadOnlyList<ITrainingCallback> callbacks,
        Dictionary<string, Tensor>? best,
        int? bestWeightsEpoch,
        int trainingSamples,
        int validationSamples)
    {
        var entries = new List<(string Name, byte[] Bytes)>
        {
            (ModelEntry, ModelFile.ToBytes(model)),
            (NetworkEntry, ModelFile.WeightsOf(model.Network)),
        };
        if (best is not null)
        {
            var current = Trainer.Snapshot(model.Network);
            try
            {
                Trainer.Restore(model.Network, best);
                entries.Add((BestEntry, ModelFile.WeightsOf(model.Network)));
            }
            finally
            {
                Trainer.Restore(model.Network, current);
                foreach (var tensor in current.Values)
                {
                    tensor.Dispose();
                }
            }
        }

        entries.Add((OptimizerEntry, OptimizerBytes(optimizers)));
        using (var state = noise.get_state())
        {
            entries.Add((GeneratorEntry, state.cpu().data<byte>().ToArray()));
        }

        if (model.DrawsFromGlobalGenerator)
        {
            using var global = torch.get_rng_state();
            entries.Add((GlobalGeneratorEntry, global.data<byte>().ToArray()));
        }

        var manifest = new Manifest
        {
            Format = FormatName,
            FormatVersion = FormatVersion,
            Epoch = epoch,
            Training = ModelFile.TrainingSettings.From(options),
            LearningRateFactor = learningRateFactor,
            OptimizerSteps = optimizers.Select(o => o.Steps).ToArray(),
            BestValidationLoss = double.IsFinite(bestValidationLoss) ? bestValidationLoss : null,
            BestValidationEpoch = bestValidationEpoch,
            BestWeightsEpoch = best is null ? null : bestWeightsEpoch,
            TrainingSamples = trainingSamples,
            ValidationSamples = validationSamples,
            History = history.ToArray(),
            Callbacks = callbacks
                .Select((c, i) => (c, i))
                .Where(x => x.c is IStatefulCallback)
                .Select(x => new CallbackEntry(x.i, x.c.GetType().Name, SavedState(x.i, (IStatefulCallback)x.c)))
                .ToArray(),
            Entries = entries.Select(e => new ModelFile.WeightsEntry(e.Name, e.Bytes.LongLength, Convert.ToHexString(SHA256.HashData(e.Bytes)))).ToArray(),
        };
        ModelFile.WriteAtomically(path, stream =>
        {
            using var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            using (var manifestStream = archive.CreateEntry(ManifestEntry, CompressionLevel.Optimal).Open())
            {
                JsonSerializer.Serialize(manifestStream, manifest, Json);
            }

            foreach (var (name, bytes) in entries)
            {
                using var entryStream = archive.CreateEntry(name, CompressionLevel.NoCompression).Open();
                entryStream.Write(bytes);
            }
        });
    }

    /// <summary>
    /// Reads and checks the checkpoint at <paramref name="path"/> against the model, options, optimizers and generator
    /// of the run being resumed; only when everything is valid are the weights, optimizer state, generator state and
    /// callbacks' state set. Every entry's size is checked against what the model implies before it is read.
    /// </summary>
    public static Resumed Read(string path, ITrainable model, TrainingOptions options, int trainingSamples, int validationSamples, IReadOnlyList<TrainingOptimizer> optimizers, Generator noise, IReadOnlyList<ITrainingCallback> callbacks)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (FilePaths.FileProblem(path) is { } problem)
        {
            throw new CheckpointException(path, CheckpointError.Missing, $"Checkpoint '{path}' {problem}");
        }

        using var archive = Open(path);
        var manifest = ReadManifest(path, archive);
        if (manifest.Training is null || manifest.OptimizerSteps is null || manifest.History is null || manifest.Callbacks is null || manifest.Entries is null
            || Array.Exists(manifest.Entries, e => e is null) || Array.Exists(manifest.History, e => e?.Metrics is null) || Array.Exists(manifest.Callbacks, e => e?.State is null))
        {
            throw Damaged(path, "its manifest lacks a required field");
        }

        CheckOptions(path, manifest, options);
        if ((manifest.TrainingSamples is { } savedTraining && savedTraining != trainingSamples) || (manifest.ValidationSamples is { } savedValidation && savedValidation != validationSamples))
        {
            throw new CheckpointException(
                path,
                CheckpointError.DataMismatch,
                $"'{path}' was written by a run on {manifest.TrainingSamples} training and {manifest.ValidationSamples} validation samples, but this run has {trainingSamples} and {validationSamples}: resume with the same training data and validation set (or ValidationFraction), or start a new run.");
        }

        if (manifest.History.Length != manifest.Epoch || !double.IsFinite(manifest.LearningRateFactor) || !(manifest.LearningRateFactor > 0 && manifest.LearningRateFactor <= 1))
        {
            throw Damaged(path, "its manifest's epoch, history or learning-rate factor are inconsistent");
        }

        if (manifest.BestValidationEpoch is < 1 || manifest.BestValidationEpoch > manifest.Epoch || manifest.BestWeightsEpoch is < 1 || manifest.BestWeightsEpoch > manifest.Epoch)
        {
            throw Damaged(path, $"its manifest's best epochs ({manifest.BestValidationEpoch}, {manifest.BestWeightsEpoch}) are not epochs 1 to {manifest.Epoch} of its history");
        }

        if (manifest.OptimizerSteps.Length != optimizers.Count)
        {
            throw new CheckpointException(path, CheckpointError.WrongModel, $"'{path}' holds {manifest.OptimizerSteps.Length} optimizer group(s) but {model.DisplayName} trains {optimizers.Count}: it is a checkpoint of another model.");
        }

        // Bounds from the model being resumed, before anything is read.
        var currentModel = ModelFile.ToBytes(model);
        var networkBytes = ModelFile.WeightsOf(model.Network).LongLength;
        long generatorBytes;
        using (var state = noise.get_state())
        {
            generatorBytes = state.NumberOfElements;
        }

        var (minOptimizer, maxOptimizer) = OptimizerBounds(optimizers);
        var modelFile = ReadEntry(path, archive, manifest, ModelEntry, 1, currentModel.LongLength + ModelFile.MaxManifestBytes);
        // A classifier whose encoder is frozen trains only its head: the encoder it runs on must be the one the
        // checkpoint was written with (a fine-tuned classifier's encoder copy is in the network weights).
        var frozenEncoder = model is LatentClassifier { EncoderFrozen: true };
        string saved, current;
        try
        {
            saved = ModelFile.ArchitectureOf(path, modelFile, frozenEncoder);
            current = ModelFile.ArchitectureOf(path, currentModel, frozenEncoder);
        }
        catch (ModelFileException e)
        {
            throw Damaged(path, $"its model entry cannot be read ({e.Message})", e);
        }

        if (saved != current)
        {
            var difference = FirstDifference(JsonNode.Parse(saved), JsonNode.Parse(current), string.Empty) is { } d ? $" ({d})" : string.Empty;
            throw new CheckpointException(path, CheckpointError.WrongModel, $"'{path}' is a checkpoint of another model kind or architecture than {model.DisplayName}{difference}{(frozenEncoder ? " (or of a classifier on an autoencoder with other weights)" : string.Empty)}: resume with the model the checkpoint was written for.");
        }

        var network = ReadEntry(path, archive, manifest, NetworkEntry, networkBytes, networkBytes);
        var bestBytes = archive.GetEntry(BestEntry) is null ? null : ReadEntry(path, archive, manifest, BestEntry, networkBytes, networkBytes);
        var optimizerBytes = ReadEntry(path, archive, manifest, OptimizerEntry, minOptimizer, maxOptimizer);
        var generator = ReadEntry(path, archive, manifest, GeneratorEntry, generatorBytes, generatorBytes);
        byte[]? globalGenerator = null;
        if (model.DrawsFromGlobalGenerator && archive.GetEntry(GlobalGeneratorEntry) is not null)
        {
            using var globalNow = torch.get_rng_state();
            globalGenerator = ReadEntry(path, archive, manifest, GlobalGeneratorEntry, globalNow.NumberOfElements, globalNow.NumberOfElements);
        }

        using var scope = torch.NewDisposeScope();
        var slots = ParseOptimizerState(path, optimizerBytes, optimizers);
        var before = Trainer.Snapshot(model.Network);
        Dictionary<string, Tensor>? best = null;
        try
        {
            if (bestBytes is not null)
            {
                LoadWeights(path, BestEntry, bestBytes, model);
                best = Trainer.Snapshot(model.Network);
            }

            LoadWeights(path, NetworkEntry, network, model);
            foreach (var entry in manifest.Callbacks)
            {
                if (entry.Index >= 0 && entry.Index < callbacks.Count && callbacks[entry.Index] is IStatefulCallback hook && callbacks[entry.Index].GetType().Name == entry.Type)
                {
                    try
                    {
                        hook.RestoreState(entry.State);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        throw Damaged(path, $"callback {entry.Index} ({entry.Type}) could not take its saved state ({e.Message})", e);
                    }
                }
            }
        }
        catch
        {
            Trainer.Restore(model.Network, before);
            DisposeAll(best);
            throw;
        }
        finally
        {
            DisposeAll(before);
        }

        foreach (var (optimizer, index, slot, value) in slots)
        {
            optimizers[optimizer].RestoreState(index, slot, value);
        }

        for (var i = 0; i < optimizers.Count; i++)
        {
            optimizers[i].Steps = manifest.OptimizerSteps[i];
        }

        noise.set_state(torch.tensor(generator, dtype: ScalarType.Byte));
        if (globalGenerator is not null)
        {
            using var global = torch.tensor(globalGenerator, dtype: ScalarType.Byte);
            torch.set_rng_state(global);
        }
        return new Resumed(manifest.Epoch, manifest.LearningRateFactor, [.. manifest.History], manifest.BestValidationLoss ?? double.PositiveInfinity, manifest.BestValidationEpoch, best, best is null ? null : manifest.BestWeightsEpoch);
    }

    /// <summary>
    /// A copy of the state <paramref name="callback"/> (at <paramref name="index"/> in the run's callbacks) returns,
    /// checked against <see cref="IStatefulCallback.MaxEntries"/> and <see cref="IStatefulCallback.MaxNameLength"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The state cannot be saved; the message names the callback and why.</exception>
    private static Dictionary<string, double> SavedState(int index, IStatefulCallback callback)
    {
        var what = $"Callback {index} ({callback.GetType().Name}) returned a state that cannot be saved in a checkpoint";
        var state = callback.SaveState() ?? throw new InvalidOperationException($"{what}: it is null.");
        if (state.Count > IStatefulCallback.MaxEntries)
        {
            throw new InvalidOperationException($"{what}: {state.Count:N0} names, more than {IStatefulCallback.MaxEntries:N0}.");
        }

        var copy = new Dictionary<string, double>(state.Count, StringComparer.Ordinal);
        foreach (var (name, value) in state)
        {
            if (string.IsNullOrEmpty(name) || name.Length > IStatefulCallback.MaxNameLength)
            {
                throw new InvalidOperationException($"{what}: a name is {(string.IsNullOrEmpty(name) ? "empty" : $"{name.Length} characters long, more than {IStatefulCallback.MaxNameLength}")}.");
            }

            copy[name] = value;
        }

        return copy;
    }

    /// <summary>
    /// Refuses a checkpoint written with other options, naming the first differing setting. <see cref="TrainingOptions.Epochs"/>
    /// may grow (to continue a finished run) unless the schedule is cosine, whose curve depends on it; the checkpoint's
    /// epoch must be below it.
    /// </summary>
    private static void CheckOptions(string path, Manifest manifest, TrainingOptions options)
    {
        var saved = manifest.Training!.ToOptions();
        foreach (var property in typeof(TrainingOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.Name == nameof(TrainingOptions.Epochs) && options.LearningRateSchedule != LearningRateSchedule.Cosine)
            {
                continue;
            }

            var a = property.GetValue(saved);
            var b = property.GetValue(options);
            if (!Equals(a, b))
            {
                throw new CheckpointException(path, CheckpointError.OptionsMismatch, string.Create(CultureInfo.InvariantCulture, $"'{path}' was written with TrainingOptions.{property.Name} = {a ?? "null"}, but this run has {b ?? "null"}: resume with the options the checkpoint was written with{(property.Name == nameof(TrainingOptions.Epochs) ? " (a cosine schedule depends on Epochs)" : string.Empty)}."));
            }
        }

        if (manifest.Epoch < 1 || manifest.Epoch >= options.Epochs)
        {
            throw new CheckpointException(path, CheckpointError.OptionsMismatch, $"'{path}' holds the state after epoch {manifest.Epoch}, and TrainingOptions.Epochs = {options.Epochs}: there is no epoch left to run (raise Epochs to continue).");
        }
    }

    /// <summary>
    /// The first setting in which two architecture descriptions (<see cref="ModelFile.ArchitectureOf"/>) differ, as
    /// "autoencoder.latentSize: 49 in the checkpoint, 64 in this model", or <see langword="null"/> when none is found.
    /// </summary>
    private static string? FirstDifference(JsonNode? saved, JsonNode? current, string where)
    {
        switch (saved, current)
        {
            case (JsonObject a, JsonObject b):
                foreach (var name in a.Select(p => p.Key).Union(b.Select(p => p.Key)))
                {
                    if (FirstDifference(a[name], b[name], where.Length == 0 ? name : $"{where}.{name}") is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case (JsonArray a, JsonArray b) when a.Count == b.Count:
                for (var i = 0; i < a.Count; i++)
                {
                    if (FirstDifference(a[i], b[i], $"{where}[{i}]") is { } found)
                    {
                        return found;
                    }
                }

                return null;
            default:
                var (left, right) = (saved?.ToJsonString() ?? "none", current?.ToJsonString() ?? "none");
                return left == right ? null : $"{(where.Length == 0 ? "the model" : where)}: {Shorten(left)} in the checkpoint, {Shorten(right)} in this model";
        }

        static string Shorten(string text) => text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 80), "...");
    }

    private static ZipArchive Open(string path)
    {
        var header = new byte[4];
        using (var probe = File.OpenRead(path))
        {
            var read = probe.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            if (read < 4 || header[0] != (byte)'P' || header[1] != (byte)'K' || header[2] != 3 || header[3] != 4)
            {
                throw new CheckpointException(path, CheckpointError.NotACheckpoint, $"'{path}' is not a LatentKit checkpoint (it is not a zip archive).");
            }
        }

        try
        {
            var archive = ZipFile.OpenRead(path);
            try
            {
                _ = archive.Entries.Count;
                return archive;
            }
            catch
            {
                archive.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException)
        {
            throw Damaged(path, $"its archive directory cannot be read ({e.Message})", e);
        }
    }

    private static Manifest ReadManifest(string path, ZipArchive archive)
    {
        var entry = archive.GetEntry(ManifestEntry)
            ?? throw new CheckpointException(path, CheckpointError.NotACheckpoint, $"'{path}' is not a LatentKit checkpoint: the archive has no {ManifestEntry}.");
        if (entry.Length > MaxManifestBytes)
        {
            throw Damaged(path, $"its {ManifestEntry} is {entry.Length} bytes, more than the {MaxManifestBytes} a checkpoint manifest can be");
        }

        var bytes = ReadBytes(path, entry, ManifestEntry, MaxManifestBytes);
        try
        {
            using (var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 }))
            {
                var root = document.RootElement;
                var format = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                if (format != FormatName)
                {
                    throw new CheckpointException(path, CheckpointError.NotACheckpoint, $"'{path}' is not a LatentKit checkpoint: its manifest is not a '{FormatName}' manifest.");
                }

                var version = root.TryGetProperty("formatVersion", out var v) ? v.GetInt32() : 0;
                if (version != FormatVersion)
                {
                    throw new CheckpointException(path, CheckpointError.UnsupportedVersion, $"'{path}' uses LatentKit checkpoint format {version}; this LatentKit {LatentKitInfo.Version} reads format {FormatVersion}.");
                }
            }

            return JsonSerializer.Deserialize<Manifest>(bytes, Json) ?? throw Damaged(path, "its manifest is empty");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NotSupportedException or ArgumentException)
        {
            throw Damaged(path, $"its manifest cannot be read ({e.Message})", e);
        }
    }

    /// <summary>Reads an entry whose manifest size must lie in [<paramref name="min"/>, <paramref name="max"/>] and equal the archive's, then checks its SHA-256.</summary>
    private static byte[] ReadEntry(string path, ZipArchive archive, Manifest manifest, string name, long min, long max)
    {
        var expected = manifest.Entries!.FirstOrDefault(e => e.Entry == name);
        var entry = archive.GetEntry(name);
        if (expected is null || entry is null)
        {
            throw Damaged(path, $"the entry '{name}' is missing");
        }

        if (expected.Bytes < min || expected.Bytes > max || entry.Length != expected.Bytes)
        {
            throw Damaged(path, $"the entry '{name}' is {entry.Length} bytes (manifest: {expected.Bytes}); for this model it must be {(min == max ? $"{min}" : $"{min} to {max}")} bytes");
        }

        var bytes = ReadBytes(path, entry, name, expected.Bytes);
        if (bytes.LongLength != expected.Bytes || !string.Equals(Convert.ToHexString(SHA256.HashData(bytes)), expected.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw Damaged(path, $"the entry '{name}' does not match the size and checksum in its manifest");
        }

        return bytes;
    }

    private static byte[] ReadBytes(string path, ZipArchiveEntry entry, string name, long limit)
    {
        try
        {
            return ModelFile.ReadEntry(path, entry, name, limit);
        }
        catch (ModelFileException e)
        {
            throw Damaged(path, $"the entry '{name}' cannot be read ({e.Message})", e);
        }
    }

    private static void LoadWeights(string path, string name, byte[] bytes, ITrainable model)
    {
        try
        {
            using var noGrad = torch.no_grad();
            model.Network.load(new MemoryStream(bytes), strict: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CheckpointException(path, CheckpointError.WrongModel, $"'{path}': the weights in '{name}' do not fit {model.DisplayName} ({e.Message}).", e);
        }
    }

    /// <summary>
    /// The optimizers' state: for every optimizer, parameter and state slot (in <see cref="TrainingOptimizer.StateOf"/>'s
    /// order) one byte (1 present, 0 absent) followed, when present, by the tensor's float32 values (little-endian).
    /// </summary>
    private static byte[] OptimizerBytes(IReadOnlyList<TrainingOptimizer> optimizers)
    {
        using var memory = new MemoryStream();
        using var writer = new BinaryWriter(memory);
        foreach (var optimizer in optimizers)
        {
            for (var i = 0; i < optimizer.Parameters.Count; i++)
            {
                foreach (var (_, tensor) in optimizer.StateOf(i))
                {
                    writer.Write((byte)(tensor is null ? 0 : 1));
                    if (tensor is not null)
                    {
                        using var values = tensor.detach().cpu().to(ScalarType.Float32).contiguous();
                        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.data<float>().ToArray().AsSpan()));
                    }
                }
            }
        }

        writer.Flush();
        return memory.ToArray();
    }

    private static (long Min, long Max) OptimizerBounds(IReadOnlyList<TrainingOptimizer> optimizers)
    {
        long min = 0, max = 0;
        foreach (var optimizer in optimizers)
        {
            for (var i = 0; i < optimizer.Parameters.Count; i++)
            {
                var slots = optimizer.StateOf(i).Count;
                min += slots;
                max += slots * (1 + (4 * optimizer.Parameters[i].NumberOfElements));
            }
        }

        return (min, max);
    }

    private static List<(int Optimizer, int Index, int Slot, Tensor? Value)> ParseOptimizerState(string path, byte[] bytes, IReadOnlyList<TrainingOptimizer> optimizers)
    {
        var result = new List<(int, int, int, Tensor?)>();
        var offset = 0;
        for (var o = 0; o < optimizers.Count; o++)
        {
            var optimizer = optimizers[o];
            for (var i = 0; i < optimizer.Parameters.Count; i++)
            {
                var parameter = optimizer.Parameters[i];
                var slots = optimizer.StateOf(i).Count;
                for (var s = 0; s < slots; s++)
                {
                    if (offset >= bytes.Length || bytes[offset] > 1)
                    {
                        throw Damaged(path, $"the entry '{OptimizerEntry}' is malformed at byte {offset}");
                    }

                    var present = bytes[offset++] == 1;
                    if (!present)
                    {
                        result.Add((o, i, s, null));
                        continue;
                    }

                    var length = checked((int)(parameter.NumberOfElements * 4));
                    if (offset + length > bytes.Length)
                    {
                        throw Damaged(path, $"the entry '{OptimizerEntry}' ends inside the state of parameter {i}");
                    }

                    var values = new float[parameter.NumberOfElements];
                    Buffer.BlockCopy(bytes, offset, values, 0, length);
                    offset += length;
                    if (!Array.TrueForAll(values, float.IsFinite))
                    {
                        throw Damaged(path, $"the entry '{OptimizerEntry}' holds a non-finite value");
                    }

                    result.Add((o, i, s, torch.tensor(values).reshape(parameter.shape).to(parameter.dtype).to(parameter.device)));
                }
            }
        }

        if (offset != bytes.Length)
        {
            throw Damaged(path, $"the entry '{OptimizerEntry}' holds {bytes.Length - offset} bytes more than the optimizer state of this model");
        }

        return result;
    }

    private static CheckpointException Damaged(string path, string what, Exception? inner = null) =>
        new(path, CheckpointError.Damaged, $"'{path}' is truncated or damaged: {what}.", inner);

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null)
        {
            return;
        }

        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }
    }
}
