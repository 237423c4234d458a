using System.CommandLine;

namespace LatentKit.Samples.Common.CommandLine;

/// <summary>The options the MNIST study samples (anomaly detection, improvements) share, with their rules: one place for both.</summary>
public static class StudyOptions
{
    /// <summary><c>--output</c>/<c>-o</c>: the output directory, <paramref name="defaultDirectory"/> by default.</summary>
    public static Option<string> Output(string defaultDirectory) =>
        new("--output", "-o") { Description = "Output directory for results.json, results.md and the PNGs.", DefaultValueFactory = _ => defaultDirectory };

    /// <summary><c>--seeds</c>: at least 1 when given; 0 (not given) lets the sample pick its default, which <paramref name="description"/> states.</summary>
    public static Option<int> Seeds(string description)
    {
        var seeds = new Option<int>("--seeds") { Description = description, DefaultValueFactory = _ => 0 };
        seeds.Validators.Add(r =>
        {
            if (!r.Implicit && r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--seeds must be at least 1.");
            }
        });
        return seeds;
    }

    /// <summary><c>--threads</c>: TorchSharp's CPU threads, at least 1; not given leaves TorchSharp's own default.</summary>
    public static Option<int?> Threads()
    {
        var threads = new Option<int?>("--threads") { Description = "TorchSharp CPU threads (default: TorchSharp's own)." };
        threads.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1)
            {
                r.AddError("--threads must be at least 1.");
            }
        });
        return threads;
    }

    /// <summary><c>--data-dir</c>: a folder with the MNIST files, read in place instead of the library's cache.</summary>
    public static Option<string?> DataDirectory() =>
        new("--data-dir") { Description = "Directory with the MNIST .gz files (default: the library's cache, downloading when needed)." };
}
