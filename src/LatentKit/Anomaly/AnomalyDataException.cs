namespace LatentKit;

/// <summary>Why data given to anomaly detection (scores, labels, codes or a normal set) cannot be used.</summary>
public enum AnomalyDataError
{
    /// <summary>There are no samples (an empty normal set, or no scores).</summary>
    Empty,

    /// <summary>Every normal sample gives the same value, so no spread can be fitted (a constant normal set).</summary>
    Constant,

    /// <summary>A score, a code value or a setting is NaN or infinite.</summary>
    NonFinite,

    /// <summary>Two inputs that must have one entry per sample have different lengths, or a code has the wrong width.</summary>
    LengthMismatch,

    /// <summary>The labels hold only normal or only anomalous samples, so a ranking metric is undefined.</summary>
    SingleClass,

    /// <summary>Too few samples for the statistic (for example fewer than two codes for a covariance).</summary>
    TooFew,
}

/// <summary>
/// Data given to anomaly detection cannot be used; <see cref="Error"/> says why, <see cref="ArgumentException.ParamName"/>
/// names the input, and the message says what to do.
/// </summary>
public sealed class AnomalyDataException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public AnomalyDataException(AnomalyDataError error, string message, string? paramName)
        : base(message, paramName)
    {
        Error = error;
    }

    /// <summary>Why the data cannot be used.</summary>
    public AnomalyDataError Error { get; }

    /// <summary>Throws <see cref="AnomalyDataError.Empty"/> when there are no values and <see cref="AnomalyDataError.NonFinite"/> naming the first NaN or infinite one.</summary>
    internal static void ThrowIfEmptyOrNonFinite(ReadOnlySpan<double> values, string paramName, string what)
    {
        if (values.Length == 0)
        {
            throw new AnomalyDataException(AnomalyDataError.Empty, $"{what} is empty: give at least one sample.", paramName);
        }

        ThrowIfNonFinite(values, paramName, what);
    }

    /// <summary>Throws <see cref="AnomalyDataError.NonFinite"/> naming the first NaN or infinite value.</summary>
    internal static void ThrowIfNonFinite(ReadOnlySpan<double> values, string paramName, string what)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new AnomalyDataException(AnomalyDataError.NonFinite, $"{what} holds a non-finite value ({values[i]}) at index {i}; scores must be finite (a model that diverged, or data with NaN values, gives such scores).", paramName);
            }
        }
    }
}
