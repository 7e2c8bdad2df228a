package io.millrace.http;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The server-wide budget for request bodies held in memory, in bytes. A body is charged as its bytes
 * arrive, never for what its Content-Length or chunk sizes announce, and for the whole pooled chunks
 * they occupy (see {@link RequestReader}); it is released when its response is queued (or its
 * connection goes). A charge that would push the total past the limit is refused: that one request
 * gets 503 at once and the others go on.
 *
 * <p>Threading: shared by all workers; one atomic add per chunk a body takes (none for a request without a body).
 */
final class BodyBudget
{
    private final long limit;
    private final AtomicLong used = new AtomicLong();
    private final AtomicLong refusals = new AtomicLong();

    /**
     * @param limit bytes at most; {@link Long#MAX_VALUE} for no limit
     */
    BodyBudget(final long limit)
    {
        this.limit = limit;
    }

    /**
     * @param bytes to charge, more than 0
     * @return false (and nothing charged) if that would exceed the limit
     */
    boolean tryCharge(final long bytes)
    {
        long now;
        do
        {
            now = used.get();
            if (now + bytes > limit)
            {
                refusals.incrementAndGet();
                return false;
            }
        }
        while (!used.compareAndSet(now, now + bytes));
        return true;
    }

    void release(final long bytes)
    {
        used.addAndGet(-bytes);
    }

    long used()
    {
        return used.get();
    }

    long limit()
    {
        return limit;
    }

    long refusals()
    {
        return refusals.get();
    }
}
