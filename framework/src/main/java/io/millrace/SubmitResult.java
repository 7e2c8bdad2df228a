package io.millrace;

/**
 * The answer to {@link Pipeline#submit}: accepted, or an explicit rejection that the caller must
 * handle (an HTTP server answers 503). Rejection never blocks and never loses an accepted request.
 */
public enum SubmitResult
{
    /** The request is in the pipeline and will be completed exactly once. */
    ACCEPTED,
    /**
     * Refused for overload: the in-flight bound was reached or the target worker's inbox ring was
     * full. Retry later or shed the request.
     */
    REJECTED_OVERLOADED,
    /** Refused because the pipeline is not running (not started, shutting down or stopped). */
    REJECTED_NOT_RUNNING;

    /**
     * @return whether the request was accepted
     */
    public boolean accepted()
    {
        return this == ACCEPTED;
    }
}
