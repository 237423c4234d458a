using System.CommandLine;

namespace LatentKit.Samples.Common.CommandLine;

/// <summary>The options the MNIST study samples (anomaly detection, improvements) share, with their rules: one place for both.</summary>
public static class StudyOptions
{
    /// <summary><c>--output</c>/<c>-o</c>: the output directory, <paramref name="defaultDirectory"/> by default; not a file.</summary>
    public static Option<string> Output(string defaultDirectory)
    {
        var output = new Option<string>("--output", "-o") { Description = "Output directory for results.json, results.md and the PNGs.", DefaultValueFactory = _ => defaultDirectory };
        output.Validators.Add(OptionRules.RequireOutputDirectory);
        return output;
    }

    /// <summary><c>--seeds</c>: at least 1 when given; 0 (not given) lets the sample pick its default, which <paramref name="description"/> states.</summary>
    public static Option<int> Seeds(string description)
    {
        var seeds = new Option<int>("--seeds") { Description = description, DefaultValueFactory = _ => 0 };
        seeds.Validators.Add(r => OptionRules.RequireRange(r, 1, int.MaxValue, "--seeds must be at least 1."));
        return seeds;
    }

    /// <summary><c>--threads</c>: TorchSharp's CPU threads, 1 to <see cref="OptionRules.MaxThreads"/>; not given leaves TorchSharp's own default.</summary>
    public static Option<int?> Threads()
    {
        var threads = new Option<int?>("--threads") { Description = $"TorchSharp CPU threads, 1 to {OptionRules.MaxThreads} (default: TorchSharp's own)." };
        threads.Validators.Add(OptionRules.RequireThreads);
        return threads;
    }

    /// <summary><c>--data-dir</c>: an existing, non-empty folder with the MNIST files, read in place instead of the library's cache.</summary>
    public static Option<string?> DataDirectory()
    {
        var dataDirectory = new Option<string?>("--data-dir") { Description = "Directory with the MNIST .gz files (default: the library's cache, downloading when needed)." };
        dataDirectory.Validators.Add(OptionRules.RequireInputDirectory);
        return dataDirectory;
    }
}
