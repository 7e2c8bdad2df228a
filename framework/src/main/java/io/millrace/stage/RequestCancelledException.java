package io.millrace.stage;

/**
 * The error a request completes with when its {@link CancelToken} was cancelled or its deadline
 * passed. Carries no stack trace (the reason says all) and is cheap to throw, since a vanished
 * client can make many of them.
 */
public final class RequestCancelledException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /** Why the request stopped. */
    public enum Reason
    {
        /** {@link CancelToken#cancel()} was called. */
        CANCELLED,
        /** The token's deadline passed. */
        DEADLINE_EXCEEDED
    }

    private final Reason reason;

    /**
     * @param reason why the request stopped
     * @param stage  the stage it would have run next, or {@code null}
     */
    public RequestCancelledException(final Reason reason, final String stage)
    {
        super((reason == Reason.CANCELLED ? "request cancelled" : "request deadline exceeded") +
            (stage == null ? "" : " before stage '" + stage + "'"), null, false, false);
        this.reason = reason;
    }

    /**
     * @return why the request stopped
     */
    public Reason reason()
    {
        return reason;
    }
}
