package io.millrace.worker;

/**
 * A worker's intake from its own thread: requests submitted or resumed by code running on the
 * worker (the transport's read handler, a stage, a lock-grid release, an end-of-turn hook) wait here
 * instead of in the worker's ring, and run later in the same loop turn. No ring slot, no memory
 * barrier, no wake-up: the cheap path the docs promise for a request that never leaves its worker.
 *
 * <p>Entering through the queue rather than running at once keeps re-entrancy bounded: a stage that
 * submits or resumes runs to its end before the work it caused starts.
 *
 * <p>Hand-offs jump the queue: {@link #offerFirst} puts a request at the front, where it runs before
 * the others, and counts it as urgent until taken, so that the worker can run it as soon as the
 * dispatch that handed it a resource returns (see {@code WorkerDispatch.runHandOffs}).
 *
 * <p>Bound: every entry is an in-flight request (it holds a permit of the pipeline's in-flight
 * gate) and a request is in at most one queue at a time, so the capacity, the in-flight bound
 * rounded up to a power of two, is never exceeded.
 *
 * <p>Threading: owned by the worker thread; not thread-safe, and never touched by another thread.
 */
final class LocalQueue
{
    private final int mask;
    private final int[] stages;
    private final Exchange<?>[] exchanges;
    private long head;
    private long tail;
    /** Entries at the front put there by {@link #offerFirst} and not yet taken. */
    private int urgent;

    LocalQueue(final int minCapacity)
    {
        final int capacity = Integer.highestOneBit(Math.max(2, minCapacity) - 1) << 1;
        this.mask = capacity - 1;
        this.stages = new int[capacity];
        this.exchanges = new Exchange<?>[capacity];
    }

    /**
     * @param exchange the request
     * @param stage    the stage to run it from, or -1 to resume it with its resume outcome or error
     * @return {@code false} if full, which the in-flight bound rules out
     */
    boolean offer(final Exchange<?> exchange, final int stage)
    {
        if (tail - head > mask)
        {
            return false;
        }
        final int i = (int)(tail++ & mask);
        stages[i] = stage;
        exchanges[i] = exchange;
        return true;
    }

    /**
     * Puts a request at the front: it is taken before everything already queued. For a request
     * handed a resource that others queue behind (a lock-grid cell), which should run at once.
     *
     * @param exchange the request
     * @param stage    the stage to run it from, or -1 to resume it with its resume outcome or error
     * @return {@code false} if full, which the in-flight bound rules out
     */
    boolean offerFirst(final Exchange<?> exchange, final int stage)
    {
        if (tail - head > mask)
        {
            return false;
        }
        final int i = (int)(--head & mask);
        stages[i] = stage;
        exchanges[i] = exchange;
        urgent++;
        return true;
    }

    /**
     * @return whether the front entry was put there by {@link #offerFirst}
     */
    boolean hasUrgent()
    {
        return urgent > 0;
    }

    boolean isEmpty()
    {
        return head == tail;
    }

    int size()
    {
        return (int)(tail - head);
    }

    /** Stage of the oldest entry; call only when not empty. */
    int peekStage()
    {
        return stages[(int)(head & mask)];
    }

    /** Takes the oldest entry's exchange; call {@link #peekStage()} first. */
    Exchange<?> take()
    {
        final int i = (int)(head++ & mask);
        if (urgent > 0)
        {
            urgent--;
        }
        final Exchange<?> e = exchanges[i];
        exchanges[i] = null;
        return e;
    }
}
