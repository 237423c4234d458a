using LatentKit.Samples.ResultTable;
using LatentKit.Samples.ResultTable.CommandLine;
using Spectre.Console;

// Redirected to a log, Spectre.Console assumes 80 columns; the result table needs more to stay readable.
if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 160)
{
    AnsiConsole.Profile.Width = 160;
}

return await ResultTableCommandLine.InvokeAsync(
    args,
    (settings, cancellationToken) => new ResultTableRunner(settings, AnsiConsole.Console).RunAsync(cancellationToken),
    Console.Out,
    Console.Error).ConfigureAwait(false);
