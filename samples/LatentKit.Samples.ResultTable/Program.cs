using LatentKit.Samples.ResultTable;
using LatentKit.Samples.ResultTable.CommandLine;
using Spectre.Console;

return await ResultTableCommandLine.InvokeAsync(
    args,
    (settings, cancellationToken) => new ResultTableRunner(settings, AnsiConsole.Console).RunAsync(cancellationToken),
    Console.Out,
    Console.Error).ConfigureAwait(false);
