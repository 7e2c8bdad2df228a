package io.millrace.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * Lines logged through SLF4J during the tests, captured by {@link CapturingLoggerProvider}. WARN and
 * above are also printed to stderr so that a failing run shows them.
 */
public final class CapturedLog
{
    /** One captured line. */
    public record Line(String logger, String level, String message, Throwable error)
    {
    }

    private static final List<Line> LINES = new ArrayList<>();

    private CapturedLog()
    {
    }

    static void add(final Line line)
    {
        synchronized (LINES)
        {
            LINES.add(line);
        }
    }

    /**
     * @param containing text the message must contain
     * @return lines whose message contains the text
     */
    public static List<Line> lines(final String containing)
    {
        synchronized (LINES)
        {
            return LINES.stream().filter(l -> l.message().contains(containing)).toList();
        }
    }
}
