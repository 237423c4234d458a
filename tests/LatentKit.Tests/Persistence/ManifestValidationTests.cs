using System.IO.Compression;
using System.Text.Json.Nodes;
using LatentKit.Tests.Support;
using TorchSharp;

namespace LatentKit.Tests.Persistence;

/// <summary>Model files whose manifest was edited by hand or by a hostile tool (issue 11, items 3, 4, 5 and 12).</summary>
public sealed class ManifestValidationTests : IDisposable
{
    /// <summary>Most managed bytes a rejected small file may make the loader allocate (the file itself is about 50 KB).</summary>
    private const long RejectionAllocationBound = 2 << 20;

    private readonly TempDirectory folder = new();
    private readonly string autoencoderPath;
    private readonly string classifierPath;

    public ManifestValidationTests()
    {
        autoencoderPath = folder.Combine("autoencoder.lkm");
        classifierPath = folder.Combine("classifier.lkm");
        using var autoencoder = Autoencoders.Dense().WithHiddenLayers(16).WithLatentSize(8).WithSeed(3).Build();
        autoencoder.Save(autoencoderPath);
        using var classifier = LatentClassifier.For(autoencoder).WithHiddenLayers(12).WithBatchNorm().WithDropout(0.2).WithSeed(5).Build();
        classifier.Save(classifierPath);
    }

    public void Dispose() => folder.Dispose();

    private static readonly Dictionary<string, (bool Classifier, Action<JsonObject> Edit, ModelFileError Error, string[] Message)> Cases = new()
    {
        ["classifier activation 99"] = (true, m => m["classifier"]!["activation"] = 99, ModelFileError.Damaged, ["classifier.activation", "99"]),
        ["classifier hidden layers null"] = (true, m => m["classifier"]!["hiddenLayers"] = null, ModelFileError.Damaged, ["classifier.hiddenLayers", "no layers"]),
        ["classifier hidden layers [-5]"] = (true, m => m["classifier"]!["hiddenLayers"] = new JsonArray(-5), ModelFileError.Damaged, ["classifier.hiddenLayers", "-5"]),
        ["classifier hidden layer too wide"] = (true, m => m["classifier"]!["hiddenLayers"] = new JsonArray(70_000), ModelFileError.Damaged, ["classifier.hiddenLayers", "70000", "65536"]),
        ["classifier dropout 1.5"] = (true, m => m["classifier"]!["dropout"] = 1.5, ModelFileError.Damaged, ["classifier.dropout", "1.5"]),
        ["classifier head 7"] = (true, m => m["classifier"]!["head"] = 7, ModelFileError.Damaged, ["classifier.head", "7"]),
        ["classifier encoder learning rate -1"] = (true, m => m["classifier"]!["encoderLearningRate"] = -1, ModelFileError.Damaged, ["classifier.encoderLearningRate", "-1"]),
        ["classifier missing"] = (true, m => m.Remove("classifier"), ModelFileError.Damaged, ["no classifier architecture"]),
        ["classifier batch size 0"] = (true, m => m["classifierTraining"]!["batchSize"] = 0, ModelFileError.Damaged, ["classifierTraining.batchSize", "BatchSize = 0"]),
        ["classifier learning rate -1"] = (true, m => m["classifierTraining"]!["learningRate"] = -1, ModelFileError.Damaged, ["classifierTraining.learningRate", "-1"]),
        ["classifier file latent size 1e9"] = (true, m => m["autoencoder"]!["latentSize"] = 1_000_000_000, ModelFileError.Damaged, ["autoencoder.latentSize", "1000000000"]),
        ["latent size 1e9"] = (false, m => m["autoencoder"]!["latentSize"] = 1_000_000_000, ModelFileError.Damaged, ["autoencoder.latentSize", "1000000000", "65536"]),
        ["latent size 0"] = (false, m => m["autoencoder"]!["latentSize"] = 0, ModelFileError.Damaged, ["autoencoder.latentSize", "0"]),
        ["latent size as a string"] = (false, m => m["autoencoder"]!["latentSize"] = "eight", ModelFileError.Damaged, ["cannot be read", "latentSize"]),
        ["latent size beyond int"] = (false, m => m["autoencoder"]!["latentSize"] = 1e12, ModelFileError.Damaged, ["cannot be read", "latentSize"]),
        ["hidden width 100000"] = (false, m => m["autoencoder"]!["layers"] = new JsonArray(100_000), ModelFileError.Damaged, ["autoencoder.layers", "100000", "65536"]),
        ["hidden layers null"] = (false, m => m["autoencoder"]!["layers"] = null, ModelFileError.Damaged, ["autoencoder.layers", "no layers"]),
        ["hidden layers [-5]"] = (false, m => m["autoencoder"]!["layers"] = new JsonArray(-5), ModelFileError.Damaged, ["autoencoder.layers", "-5"]),
        ["too many parameters"] = (false, m => m["autoencoder"]!["layers"] = new JsonArray(60_000, 60_000), ModelFileError.Damaged, ["autoencoder.layers", "parameters"]),
        ["activation 99"] = (false, m => m["autoencoder"]!["activation"] = 99, ModelFileError.Damaged, ["autoencoder.activation", "99"]),
        ["activation unknown name"] = (false, m => m["autoencoder"]!["activation"] = "Swish", ModelFileError.Damaged, ["cannot be read", "activation"]),
        ["kind 42"] = (false, m => m["autoencoder"]!["kind"] = 42, ModelFileError.Damaged, ["autoencoder.kind", "42"]),
        ["kl weight -1"] = (false, m => m["autoencoder"]!["klWeight"] = -1, ModelFileError.Damaged, ["autoencoder.klWeight", "-1"]),
        ["noise 2"] = (false, m => m["autoencoder"]!["denoisingNoiseStd"] = 2, ModelFileError.Damaged, ["autoencoder.denoisingNoiseStd", "2"]),
        ["bce without sigmoid"] = (false, m => m["autoencoder"]!["outputActivation"] = "Identity", ModelFileError.Damaged, ["autoencoder.outputActivation", "Identity"]),
        ["autoencoder is a number"] = (false, m => m["autoencoder"] = 5, ModelFileError.Damaged, ["cannot be read"]),
        ["autoencoder null"] = (false, m => m["autoencoder"] = null, ModelFileError.Damaged, ["no autoencoder architecture"]),
        ["epochs -1"] = (false, m => m["autoencoderTraining"]!["epochs"] = -1, ModelFileError.Damaged, ["autoencoderTraining.epochs", "-1"]),
        ["optimizer 99"] = (false, m => m["autoencoderTraining"]!["optimizer"] = 99, ModelFileError.Damaged, ["autoencoderTraining.optimizer", "99"]),
        ["validation fraction 3"] = (false, m => m["autoencoderTraining"]!["validationFraction"] = 3, ModelFileError.Damaged, ["autoencoderTraining.validationFraction", "3"]),
        ["kind null"] = (false, m => m["kind"] = null, ModelFileError.Damaged, ["kind ''"]),
        ["weights null"] = (false, m => m["weights"] = null, ModelFileError.Damaged, ["weights"]),
        ["weights [null]"] = (false, m => m["weights"] = new JsonArray((JsonNode?)null), ModelFileError.Damaged, ["weights"]),
        ["weights declared 1 TB"] = (false, m => m["weights"]![0]!["bytes"] = 1_000_000_000_000, ModelFileError.WeightsMismatch, ["autoencoder.weights", "architecture"]),
        ["weights checksum wrong"] = (false, m => m["weights"]![0]!["sha256"] = new string('0', 64), ModelFileError.Damaged, ["checksum"]),
        ["latent 9 with the weights of latent 8"] = (false, m => m["autoencoder"]!["latentSize"] = 9, ModelFileError.WeightsMismatch, ["architecture"]),
        ["format version 0"] = (false, m => m["formatVersion"] = 0, ModelFileError.UnsupportedVersion, ["format 0"]),
        ["format version a string"] = (false, m => m["formatVersion"] = "one", ModelFileError.Damaged, ["cannot be read"]),
        ["newer version with an unknown activation"] = (false, m => { m["formatVersion"] = 3; m["autoencoder"]!["activation"] = "Swish"; }, ModelFileError.UnsupportedVersion, ["format 3", "reads format 2"]),
        ["newer version with an unknown optimizer"] = (false, m => { m["formatVersion"] = 3; m["autoencoderTraining"]!["optimizer"] = "Lion"; }, ModelFileError.UnsupportedVersion, ["format 3"]),
        ["newer version with an unknown head"] = (true, m => { m["formatVersion"] = 3; m["classifier"]!["head"] = "Hierarchical"; }, ModelFileError.UnsupportedVersion, ["format 3"]),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void An_edited_manifest_is_a_model_file_exception_naming_the_field_and_value_and_allocates_little(string name)
    {
        var (classifier, edit, error, message) = Cases[name];
        var edited = folder.Combine("edited.lkm");
        ModelFileEditor.EditManifest(classifier ? classifierPath : autoencoderPath, edited, edit);

        var liveTensors = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var before = GC.GetAllocatedBytesForCurrentThread();
        Action load = classifier ? () => LatentClassifier.Load(edited).Dispose() : () => AutoencoderFile.Load(edited).Dispose();
        var exception = load.Should().Throw<ModelFileException>(name).Which;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        exception.Error.Should().Be(error, name + ": " + exception.Message);
        exception.Path.Should().Be(edited);
        exception.Message.Should().Contain(edited);
        foreach (var part in message)
        {
            exception.Message.Should().Contain(part, name);
        }

        allocated.Should().BeLessThan(RejectionAllocationBound, $"{name}: rejected before reading or allocating anything large");
        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(liveTensors, $"{name}: a failed load leaves no tensors behind");
    }

    [Fact]
    public void Benign_manifest_edits_still_load()
    {
        var edited = folder.Combine("edited.lkm");
        ModelFileEditor.EditManifest(autoencoderPath, edited, m =>
        {
            m["latentKitVersion"] = "9.9.9";
            m["savedAt"] = "2001-02-03T04:05:06+00:00";
            m["autoencoder"]!["seed"] = null;
            m["unknownField"] = "ignored";
            m["autoencoderTraining"]!["epochs"] = 3;

            // Written by files made before threads and early-stopping patience moved to TrainingRun and the
            // EarlyStopping callback: read and ignored, whatever their value.
            m["autoencoderTraining"]!["threads"] = 0;
            m["autoencoderTraining"]!["earlyStoppingPatience"] = 2;
        });

        using var loaded = AutoencoderFile.Load(edited);
        loaded.LatentSize.Should().Be(8);
        loaded.DefaultTraining.Epochs.Should().Be(3);
    }

    [Fact]
    public void A_manifest_larger_than_one_mebibyte_is_damaged_and_not_read()
    {
        // Valid JSON, padded with a field LatentKit ignores: before the fix it was read whole and loaded.
        var edited = folder.Combine("padded.lkm");
        ModelFileEditor.EditManifest(autoencoderPath, edited, m => m["padding"] = new string(' ', 3 << 20));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var exception = FluentActions.Invoking(() => AutoencoderFile.Load(edited)).Should().Throw<ModelFileException>().Which;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        exception.Error.Should().Be(ModelFileError.Damaged);
        exception.Message.Should().Contain("manifest.json").And.Contain("1048576");
        allocated.Should().BeLessThan(RejectionAllocationBound);
    }

    [Fact]
    public void A_weights_entry_larger_than_its_manifest_says_is_rejected_before_it_is_read()
    {
        // 64 MB of zeros after the real weights, deflated to a small file: before the fix the loader inflated the whole
        // entry into memory before comparing its size with the manifest.
        var entries = ModelFileEditor.Entries(autoencoderPath);
        var weights = entries.Single(e => e.Name == "autoencoder.weights").Bytes;
        var bloated = folder.Combine("bloated.lkm");
        ModelFileEditor.Write(bloated, entries.Select(e => e.Name == "autoencoder.weights" ? (e.Name, [.. weights, .. new byte[64 << 20]]) : e), CompressionLevel.Optimal);
        new FileInfo(bloated).Length.Should().BeLessThan(2 << 20);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var exception = FluentActions.Invoking(() => AutoencoderFile.Load(bloated)).Should().Throw<ModelFileException>().Which;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        exception.Error.Should().Be(ModelFileError.Damaged);
        exception.Message.Should().Contain("autoencoder.weights");
        allocated.Should().BeLessThan(RejectionAllocationBound);
    }

    [Fact]
    public void Compressed_weights_with_the_right_size_and_checksum_load()
    {
        // Whoever re-zips a model file with compression still has a valid model file.
        var rezipped = folder.Combine("rezipped.lkm");
        ModelFileEditor.Write(rezipped, ModelFileEditor.Entries(classifierPath), CompressionLevel.Optimal);
        using var loaded = LatentClassifier.Load(rezipped);
        using var original = LatentClassifier.Load(classifierPath);
        using var images = Synthetic.Digits(10).ImagesToTensor();
        loaded.Predict(images).Should().Equal(original.Predict(images));
    }

    [Fact]
    public void A_classifier_whose_head_fails_to_load_leaves_no_tensors_behind()
    {
        // The head's weights with one tensor renamed (linear1 -> linear9) and the checksum made consistent: the
        // autoencoder and the classifier are built, then loading the head fails, and everything must be disposed.
        var entries = ModelFileEditor.Entries(classifierPath);
        var head = entries.Single(e => e.Name == "classifier.weights").Bytes.ToArray();
        var at = IndexOf(head, "linear1"u8.ToArray());
        at.Should().BeGreaterThan(0);
        head[at + 6] = (byte)'9';
        var manifest = JsonNode.Parse(entries.Single(e => e.Name == "manifest.json").Bytes)!.AsObject();
        ModelFileEditor.Describe(manifest, "classifier.weights", head);
        var forged = folder.Combine("forged.lkm");
        ModelFileEditor.Write(forged, entries.Select(e => e.Name switch
        {
            "manifest.json" => (e.Name, System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString())),
            "classifier.weights" => (e.Name, head),
            _ => e,
        }));

        var liveTensors = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var exception = FluentActions.Invoking(() => LatentClassifier.Load(forged)).Should().Throw<ModelFileException>().Which;
        exception.Error.Should().Be(ModelFileError.WeightsMismatch);
        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(liveTensors);
    }

    [Fact]
    public void A_valid_classifier_file_loads_and_keeps_its_settings()
    {
        using var loaded = LatentClassifier.Load(classifierPath);
        loaded.HiddenLayers.Should().Equal(12);
        loaded.BatchNorm.Should().BeTrue();
        loaded.Dropout.Should().Be(0.2);
        loaded.Autoencoder.LatentSize.Should().Be(8);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        return -1;
    }
}
