using System.Reflection;
using LatentKit.Csv;

namespace LatentKit.Tests.Platform;

/// <summary>Issue 8: the core package keeps its two dependencies; optional features live in optional packages.</summary>
public sealed class CoreDependencyTests
{
    private static string[] NonFrameworkReferences(Assembly assembly) => assembly.GetReferencedAssemblies()
        .Select(a => a.Name!)
        .Where(n => n != "netstandard" && n != "mscorlib" && !n.StartsWith("System", StringComparison.Ordinal) && !n.StartsWith("Microsoft.Win32", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal)
        .ToArray();

    [Fact]
    public void The_core_assembly_references_only_TorchSharp_and_the_logging_abstractions()
    {
        NonFrameworkReferences(typeof(Dataset).Assembly).Should().BeSubsetOf(["Microsoft.Extensions.Logging.Abstractions", "TorchSharp"]);
    }

    [Fact]
    public void CSV_loading_lives_in_the_optional_LatentKit_Csv_package_on_Sep()
    {
        typeof(CsvDataset).Assembly.GetName().Name.Should().Be("LatentKit.Csv");
        NonFrameworkReferences(typeof(CsvDataset).Assembly).Should().Contain(["LatentKit", "Sep"]);
        typeof(Dataset).Assembly.GetTypes().Select(t => t.Name).Should().NotContain(["CsvLoadOptions", "CsvDataset"]);
    }
}
