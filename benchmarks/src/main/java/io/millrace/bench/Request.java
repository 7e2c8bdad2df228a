package io.millrace.bench;

/**
 * The request every context-switch variant carries: a value the five stage functions transform,
 * and the batch to tell when it is done. Requests are preallocated per batch and reused.
 */
public final class Request
{
    final Batch batch;
    long value;
    int lastWorker = -1;

    Request(final Batch batch)
    {
        this.batch = batch;
    }

    /**
     * The identical small stage function every variant runs five times per request.
     *
     * @param value input
     * @return output
     */
    static long step(final long value)
    {
        return value * 31 + 7;
    }

    void reset()
    {
        lastWorker = -1;
    }

    /** Called by whichever thread completes the request. */
    void done()
    {
        batch.completed();
    }
}
