using System.Globalization;
using LatentKit;
using LatentKit.ResumeProbe;

// Usage: LatentKit.ResumeProbe <scenario> <checkpoint> <losses out> <model out>
// Resumes the scenario's run from the checkpoint on one thread, writes "epoch loss" lines (every epoch of the
// history, "R" format) and saves the trained model.
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: LatentKit.ResumeProbe <scenario> <checkpoint> <losses out> <model out>");
    return 2;
}

var (scenario, checkpoint, lossesPath, modelPath) = (args[0], args[1], args[2], args[3]);
var data = ResumeScenarios.Data();
var model = ResumeScenarios.Build(scenario, data);
var run = new TrainingRun { Threads = 1, ResumeFrom = checkpoint, Callbacks = ResumeScenarios.Callbacks(scenario) };
var history = ResumeScenarios.Train(model, data, ResumeScenarios.Options(scenario), run);
File.WriteAllLines(lossesPath, history.Epochs.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Epoch} {e.TrainingLoss:R}")));
ResumeScenarios.Save(model, modelPath);
(model as IDisposable)?.Dispose();
return 0;
