using System.Globalization;

namespace LatentKit;

/// <summary>One invalid setting: its name, its value and the rule it breaks (a sentence that says what to do).</summary>
/// <param name="Setting">The setting: a property (<c>Epochs</c>) or a builder parameter (<c>latentSize</c>).</param>
/// <param name="Value">The value given, as text.</param>
/// <param name="Rule">What is wrong and what is allowed.</param>
public sealed record ValidationError(string Setting, string Value, string Rule);

/// <summary>
/// One or more settings are invalid: <see cref="Errors"/> lists every one of them (not only the first), and
/// <see cref="ArgumentException.ParamName"/> names the first. Thrown by <see cref="TrainingOptions.Validate"/>,
/// <see cref="TrainingRun.Validate"/>, the builders' <c>Build</c> and the built-in callbacks' constructors.
/// </summary>
public sealed class LatentKitValidationException : ArgumentException
{
    /// <summary>Creates the exception from at least one error.</summary>
    /// <param name="errors">The invalid settings.</param>
    /// <exception cref="ArgumentException"><paramref name="errors"/> is empty.</exception>
    public LatentKitValidationException(IReadOnlyList<ValidationError> errors)
        : base(Describe(errors), errors[0].Setting)
    {
        Errors = errors;
    }

    /// <summary>Every invalid setting, in the order checked.</summary>
    public IReadOnlyList<ValidationError> Errors { get; }

    private static string Describe(IReadOnlyList<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count == 0)
        {
            throw new ArgumentException("A validation exception needs at least one error.", nameof(errors));
        }

        return errors.Count == 1
            ? errors[0].Rule
            : $"{errors.Count} invalid settings: {string.Join(" ", errors.Select((e, i) => $"({i + 1}) {e.Rule}"))}";
    }
}

/// <summary>Collects invalid settings and throws one <see cref="LatentKitValidationException"/> with all of them.</summary>
internal sealed class ValidationErrors
{
    private readonly List<ValidationError> errors = [];

    public bool Any => errors.Count > 0;

    public static string Format(object? value) => value switch
    {
        null => "null",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };

    public void Add(string setting, object? value, string rule) => errors.Add(new ValidationError(setting, Format(value), rule));

    /// <summary>Runs <paramref name="validate"/> and adds what it reports, renaming settings with <paramref name="rename"/>.</summary>
    public void AddFrom(Action validate, Func<string, string>? rename = null)
    {
        try
        {
            validate();
        }
        catch (LatentKitValidationException e)
        {
            foreach (var error in e.Errors)
            {
                errors.Add(rename is null ? error : error with { Setting = rename(error.Setting) });
            }
        }
    }

    public void ThrowIfAny()
    {
        if (errors.Count > 0)
        {
            throw new LatentKitValidationException(errors.ToArray());
        }
    }
}
