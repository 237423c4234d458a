namespace LatentKit;

/// <summary>Messages of exceptions thrown by libtorch, shortened for LatentKit's own messages.</summary>
internal static class NativeErrors
{
    /// <summary>
    /// The first non-empty line of <paramref name="e"/>'s message: libtorch appends its whole C++ stack ("Exception
    /// raised from ...") after the line that says what went wrong.
    /// </summary>
    public static string FirstLine(Exception e)
    {
        foreach (var line in e.Message.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.Length > 0)
            {
                return trimmed;
            }
        }

        return e.GetType().Name;
    }
}
