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
    /** An exchange coming home from a suspension or a blocking stage, with its outcome or error inside. */
    static final int RESUME = 2;

    int kind;
    int stage;
    Object request;
    Exchange<?> exchange;

    void clear()
    {
        request = null;
        exchange = null;
    }
}
