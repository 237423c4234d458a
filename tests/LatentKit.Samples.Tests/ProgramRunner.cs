using System.Reflection;

namespace LatentKit.Samples.Tests;

/// <summary>Runs a sample's Main in this process with the console redirected: for command-line errors, which stop before any work.</summary>
internal static class ProgramRunner
{
    private static readonly Lock Gate = new();

    public static (int ExitCode, string Output, string Error) Run(Assembly program, params string[] args)
    {
        lock (Gate)
        {
            var (output, error) = (new StringWriter(), new StringWriter());
            var (oldOutput, oldError) = (Console.Out, Console.Error);
            Console.SetOut(output);
            Console.SetError(error);
            try
            {
                var returned = program.EntryPoint!.Invoke(null, [args]);
                var code = returned switch
                {
                    int i => i,
                    Task<int> task => task.GetAwaiter().GetResult(),
                    _ => throw new InvalidOperationException($"Main returned {returned}"),
                };
                return (code, output.ToString(), error.ToString());
            }
            finally
            {
                Console.SetOut(oldOutput);
                Console.SetError(oldError);
            }
        }
    }
}
