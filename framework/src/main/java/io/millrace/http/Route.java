package io.millrace.http;

import io.millrace.stage.Outcome;

import java.nio.charset.StandardCharsets;

/**
 * One route: methods and a path pattern (exact, or a prefix ending in {@code *}) leading to a stage.
 * Built once by {@link HttpServerBuilder}; immutable, shared by all workers.
 */
final class Route
{
    final byte[] pattern;
    final boolean prefix;
    /** Bit {@link Methods#index(String)} set for each method routed here (HEAD with GET). */
    final int methods;
    final Outcome stage;
    final String stageName;
    /** Null, or a listener that takes the body as it arrives instead of the server keeping it. */
    final BodyListener bodyListener;
    /**
     * A proxy route's request-buffering limit: a body of unknown length or longer than this enters the
     * pipeline at its head and streams ({@link HttpExchange#uploading}); -1 to keep every body whole.
     */
    final long streamBodiesAbove;

    Route(final String pattern, final int methods, final Outcome stage, final String stageName, final BodyListener bodyListener)
    {
        this(pattern, methods, stage, stageName, bodyListener, -1);
    }

    Route(final String pattern, final int methods, final Outcome stage, final String stageName, final BodyListener bodyListener,
        final long streamBodiesAbove)
    {
        this.streamBodiesAbove = streamBodiesAbove;
        this.prefix = pattern.endsWith("*");
        this.pattern = (prefix ? pattern.substring(0, pattern.length() - 1) : pattern).getBytes(StandardCharsets.US_ASCII);
        this.methods = methods;
        this.stage = stage;
        this.stageName = stageName;
        this.bodyListener = bodyListener;
    }

    /** @return whether the path matches, ignoring the method */
    boolean matchesPath(final byte[] path, final int start, final int end)
    {
        final int n = pattern.length;
        if (prefix ? end - start < n : end - start != n)
        {
            return false;
        }
        for (int i = 0; i < n; i++)
        {
            if (path[start + i] != pattern[i])
            {
                return false;
            }
        }
        return true;
    }

    String patternText()
    {
        return new String(pattern, StandardCharsets.US_ASCII) + (prefix ? "*" : "");
    }
}
