using System.CommandLine;
using LatentKit.Samples.Improvements;
using Spectre.Console;

var quick = new Option<bool>("--quick") { Description = "A smoke run on small subsets with few epochs (under a minute)." };
var output = new Option<string>("--output", "-o") { Description = "Output directory for results.json, results.md and the PNGs.", DefaultValueFactory = _ => "improvements-output" };
var seeds = new Option<int>("--seeds") { Description = "Seeds per point of the label-efficiency study (at least 1; default 3, 2 with --quick).", DefaultValueFactory = _ => 0 };
var threads = new Option<int?>("--threads") { Description = "TorchSharp CPU threads (default: TorchSharp's own)." };
var dataDir = new Option<string?>("--data-dir") { Description = "Directory with the MNIST .gz files (default: the library's cache, downloading when needed)." };
var study = new Option<string>("--study") { Description = "Which study: improvements, label-efficiency, generation or all.", DefaultValueFactory = _ => "all" };
study.AcceptOnlyFromAmong("improvements", "label-efficiency", "generation", "all");
seeds.Validators.Add(r =>
{
    if (!r.Implicit && r.GetValueOrDefault<int>() < 1)
    {
        r.AddError("--seeds must be at least 1.");
    }
});
threads.Validators.Add(r =>
{
    if (r.GetValueOrDefault<int?>() is < 1)
    {
        r.AddError("--threads must be at least 1.");
    }
});

var root = new RootCommand("Measures ideas for improving latent-classifier accuracy on MNIST (latent size 49), label efficiency against raw pixels, and VAE generation / latent interpolation; writes results.json, results.md and PNGs.");
root.Options.Add(quick);
root.Options.Add(output);
root.Options.Add(seeds);
root.Options.Add(threads);
root.Options.Add(dataDir);
root.Options.Add(study);
root.SetAction((result, token) =>
{
    var settings = new ImprovementsSettings(
        result.GetValue(quick),
        result.GetValue(output)!,
        result.GetValue(seeds) is > 0 and var s ? s : (result.GetValue(quick) ? 2 : 3),
        result.GetValue(threads),
        result.GetValue(dataDir),
        result.GetValue(study)!);
    return Task.FromResult(new ImprovementsRunner(settings, AnsiConsole.Console).Run(token));
});
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
