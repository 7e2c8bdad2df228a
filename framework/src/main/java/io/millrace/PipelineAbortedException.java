package io.millrace;

/**
 * The error a request completes with when the pipeline could not finish it: the shutdown deadline
 * passed while it was still in flight, or the pipeline failed (see {@link FatalErrorHandler}).
 * Every accepted request completes exactly once, so these are not silently dropped.
 */
public final class PipelineAbortedException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message what happened, and where the request was
     * @param cause   the fatal error that failed the pipeline, or {@code null} for a shutdown deadline
     */
    public PipelineAbortedException(final String message, final Throwable cause)
    {
        super(message, cause, false, false);
    }
}
