package io.millrace.worker;

import io.millrace.memory.LookasidePool;
import io.millrace.memory.PoolStats;

/**
 * A worker's request contexts: a lookaside pool the worker owns. A context remembers the pool it
 * came from, so a request completed on another worker goes back here through the pool's return
 * queue.
 *
 * <p>Threading: {@link #preallocate} runs once on the starting thread before the worker thread
 * starts (Thread.start publishes the pool). After that {@link #take()}, {@link #drainReturns()} and
 * {@link #onIdle} belong to the owning worker; {@link #recycle} runs on whichever worker completes
 * the request, and {@link #stats()} on any thread.
 *
 * @param <R> the request type
 */
final class ExchangePool<R>
{
    private final PipelineRuntime<R> runtime;
    private final Thread owner;
    private final int maxFree;
    private LookasidePool<Exchange<R>> pool;

    /**
     * @param runtime the pipeline the contexts belong to
     * @param owner   the worker thread that takes contexts
     * @param maxFree how many free contexts the pool keeps at most
     */
    ExchangePool(final PipelineRuntime<R> runtime, final Thread owner, final int maxFree)
    {
        this.runtime = runtime;
        this.owner = owner;
        this.maxFree = maxFree;
    }

    /**
     * Builds the pool and preallocates {@code count} contexts so that the first requests allocate
     * nothing either.
     */
    void preallocate(final int count)
    {
        final int floor = Math.min(count, maxFree);
        pool = LookasidePool.<Exchange<R>>builder(owner.getName() + "-contexts", () -> runtime.register(new Exchange<>(runtime)))
            .onDiscard(runtime::forget)
            .owner(owner)
            .maxIdle(maxFree)
            .preallocate(floor)
            .returnQueueCapacity(Math.max(16, maxFree))
            .build();
    }

    Exchange<R> take()
    {
        final Exchange<R> exchange = pool.acquire();
        exchange.origin = pool;
        return exchange;
    }

    /** Clears {@code exchange} and gives it back to the pool it came from, whichever worker that is. */
    static <R> void recycle(final Exchange<R> exchange)
    {
        final LookasidePool<Exchange<R>> origin = exchange.origin;
        exchange.clear();
        origin.release(exchange);
    }

    /** Takes in what other threads gave back. */
    void drainReturns()
    {
        pool.drainReturns();
    }

    /** The pool's sweep, run on the owner's idle turn. */
    void onIdle(final long nowNanos)
    {
        pool.onIdle(nowNanos);
    }

    /**
     * @return counters of the pool; zeros before it is built
     */
    PoolStats stats()
    {
        final LookasidePool<Exchange<R>> p = pool;
        return p == null ? new PoolStats(owner.getName() + "-contexts", 0, 0, 0, 0, 0, 0, 0, 0, 0) : p.stats();
    }
}
