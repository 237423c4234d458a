using LatentKit.Samples.OwnData;
using Spectre.Console;

return await OwnDataCommandLine.InvokeAsync(
    args,
    (settings, cancellationToken) => Task.FromResult(new OwnDataRunner(settings, AnsiConsole.Console).Run(cancellationToken)),
    Console.Out,
    Console.Error).ConfigureAwait(false);
