using LatentKit;
using System.CommandLine;
using LatentKit.Samples.AnomalyDetection;
using LatentKit.Samples.Common.CommandLine;
using Spectre.Console;

var quick = new Option<bool>("--quick") { Description = "A smoke run: 300 training images per digit, 2,000 test images, few epochs, one seed (under a minute)." };
var output = StudyOptions.Output("anomaly-output");
var seeds = StudyOptions.Seeds("Seeds per digit and model (at least 1; default 3, 1 with --quick).");
var threads = StudyOptions.Threads();
var dataDir = StudyOptions.DataDirectory();
var digits = new Option<string>("--digits") { Description = "The normal digits to run, for example 0-9 or 3,5,8.", DefaultValueFactory = _ => "0-9" };
var models = new Option<string>("--models") { Description = "Comma-separated autoencoders: dense, conv, vae.", DefaultValueFactory = _ => "dense,conv,vae" };
var shrinkage = new Option<double>("--shrinkage") { Description = "Covariance shrinkage of the latent Gaussian, 0 to 1.", DefaultValueFactory = _ => GaussianLatentModel.DefaultShrinkage };
var epochs = new Option<int?>("--epochs") { Description = "Training epochs for every model (default: each model's own)." };
epochs.Validators.Add(r => OptionRules.RequireRange(r, 1, 1000, "--epochs must be between 1 and 1000."));
shrinkage.Validators.Add(r => OptionRules.RequireRange(r, 0.0, 1.0, "--shrinkage must be between 0 and 1."));
digits.Validators.Add(r =>
{
    // More than one value already has System.CommandLine's own error.
    if (r.Tokens.Count <= 1 && !AnomalySettings.TryParseDigits(r.GetValueOrDefault<string>() ?? string.Empty, out _, out var error))
    {
        r.AddError(error!);
    }
});
models.Validators.Add(r =>
{
    // More than one value already has System.CommandLine's own error.
    if (r.Tokens.Count <= 1 && !AnomalySettings.TryParseModels(r.GetValueOrDefault<string>() ?? string.Empty, out _, out var error))
    {
        r.AddError(error!);
    }
});

var root = new RootCommand("One-class MNIST (Ruff et al. 2018): for each digit, trains autoencoders on that digit only, scores all 10,000 test images with every score kind, and reports AUROC per digit (mean ± sd over seeds) beside One-Class Deep SVDD; writes results.json, results.md and PNGs.");
root.Options.Add(quick);
root.Options.Add(output);
root.Options.Add(seeds);
root.Options.Add(threads);
root.Options.Add(dataDir);
root.Options.Add(digits);
root.Options.Add(models);
root.Options.Add(epochs);
root.Options.Add(shrinkage);
root.SetAction((result, token) =>
{
    if (!OptionRules.TryCreateOutputDirectory(result.GetValue(output)!, "--output", out var outputError))
    {
        Console.Error.WriteLine($"error: {outputError}");
        return Task.FromResult(OptionRules.UsageErrorExitCode);
    }

    AnomalySettings.TryParseDigits(result.GetValue(digits)!, out var digitList, out _);
    AnomalySettings.TryParseModels(result.GetValue(models)!, out var modelList, out _);
    var settings = new AnomalySettings(
        result.GetValue(quick),
        result.GetValue(output)!,
        result.GetValue(seeds) is > 0 and var s ? s : (result.GetValue(quick) ? 1 : 3),
        result.GetValue(threads),
        result.GetValue(dataDir),
        digitList,
        modelList,
        result.GetValue(epochs),
        result.GetValue(shrinkage));
    return Task.FromResult(new AnomalyRunner(settings, AnsiConsole.Console).Run(token));
});
return await OptionRules.InvokeAsync(root, args, Console.Out, Console.Error).ConfigureAwait(false);
