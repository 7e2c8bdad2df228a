package io.millrace.worker;

/**
 * One preallocated slot of a worker's inbox ring. Written by the publishing thread between claim
 * and publish, read and cleared by the owning worker after poll; the ring's sequence protocol orders
 * both, so the fields are plain.
 */
final class InboxEvent
{
    /** A new request from {@code Pipeline.submit}: {@link #request} is set, {@link #stage} is the entry stage. */
    static final int SUBMIT = 0;
    /** An exchange hopping to this worker to run {@link #stage}. */
    static final int CONTINUE = 1;
    /**
     * An exchange coming home from a suspension or a blocking stage, with its outcome or error
     * inside; {@link #stage} is the stage it parked in, for diagnostics only.
     */
    static final int RESUME = 2;
    /** A new request whose entry key function threw at submit: {@link #error} is why; it completes failed. */
    static final int FAIL_SUBMIT = 3;

    /** {@link #kind} as text, for JFR's {@code io.millrace.RingHop}. */
    private static final String[] KIND_NAMES = {"submit", "continue", "resume", "submit"};

    int kind;
    int stage;
    Object request;
    Exchange<?> exchange;
    /** For a submit: the request's cancel token, or null. */
    io.millrace.stage.CancelToken token;
    /** For a submit: when it was submitted, or 0 when not timed. */
    long submittedAt;
    /** For a failed submit: the key function's error. */
    Throwable error;

    void clear()
    {
        request = null;
        exchange = null;
        token = null;
        error = null;
    }

    static String kindName(final int kind)
    {
        return kind >= 0 && kind < KIND_NAMES.length ? KIND_NAMES[kind] : "unknown";
    }
}
