package io.millrace.net;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server-wide connection limit: one count of slots shared by every worker, so that
 * {@code maxConnections} connections are admitted however unevenly they land on the workers.
 *
 * <p>A worker takes a slot ({@link #tryAcquire()}) before it registers a connection and gives it
 * back ({@link #release()}) exactly once: when the registration fails, or when the connection closes,
 * by any path, shutdown included. Between the two the slot belongs to the connection
 * ({@link Connection#holdsSlot}).
 *
 * <p>Threading: any worker thread. One compare-and-set per accepted connection and one decrement
 * per close, never per request, so sharing one counter over all workers costs nothing measurable.
 */
final class ConnectionLimit
{
    private final int max;
    private final AtomicInteger inUse = new AtomicInteger();

    ConnectionLimit(final int max)
    {
        this.max = max;
    }

    /**
     * @return true if a slot was taken; false if all {@code max} are in use
     */
    boolean tryAcquire()
    {
        int n;
        do
        {
            n = inUse.get();
            if (n >= max)
            {
                return false;
            }
        }
        while (!inUse.compareAndSet(n, n + 1));
        return true;
    }

    /** Gives back a slot taken by {@link #tryAcquire()}; once per successful acquire. */
    void release()
    {
        final int left = inUse.decrementAndGet();
        assert left >= 0 : "a connection slot was released twice (" + left + " in use): a bug in the transport";
    }

    /**
     * @return slots taken now: connections open or being registered
     */
    int inUse()
    {
        return inUse.get();
    }
}
