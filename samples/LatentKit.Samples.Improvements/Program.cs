using System.CommandLine;
using LatentKit.Samples.Common.CommandLine;
using LatentKit.Samples.Improvements;
using Spectre.Console;

var quick = new Option<bool>("--quick") { Description = "A smoke run on small subsets with few epochs (under a minute)." };
var output = StudyOptions.Output("improvements-output");
var seeds = StudyOptions.Seeds("Seeds per point of the label-efficiency study (at least 1; default 3, 2 with --quick).");
var threads = StudyOptions.Threads();
var dataDir = StudyOptions.DataDirectory();
var study = new Option<string>("--study") { Description = "Which study: improvements, label-efficiency, generation or all.", DefaultValueFactory = _ => "all" };
study.AcceptOnlyFromAmong("improvements", "label-efficiency", "generation", "all");

var root = new RootCommand("Measures ideas for improving latent-classifier accuracy on MNIST (latent size 49), label efficiency against raw pixels, and VAE generation / latent interpolation; writes results.json, results.md and PNGs.");
root.Options.Add(quick);
root.Options.Add(output);
root.Options.Add(seeds);
root.Options.Add(threads);
root.Options.Add(dataDir);
root.Options.Add(study);
root.SetAction((result, token) =>
{
    if (!OptionRules.TryCreateOutputDirectory(result.GetValue(output)!, "--output", out var outputError))
    {
        Console.Error.WriteLine($"error: {outputError}");
        return Task.FromResult(OptionRules.UsageErrorExitCode);
    }

    var settings = new ImprovementsSettings(
        result.GetValue(quick),
        result.GetValue(output)!,
        result.GetValue(seeds) is > 0 and var s ? s : (result.GetValue(quick) ? 2 : 3),
        result.GetValue(threads),
        result.GetValue(dataDir),
        result.GetValue(study)!);
    return Task.FromResult(new ImprovementsRunner(settings, AnsiConsole.Console).Run(token));
});
return await OptionRules.InvokeAsync(root, args, Console.Out, Console.Error).ConfigureAwait(false);
