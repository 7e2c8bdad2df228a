package io.millrace.memory;

import io.millrace.worker.AgronaAccess;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Configures a {@link LookasidePool}. Defaults: at most {@value #DEFAULT_MAX_IDLE} idle objects,
 * nothing preallocated, a return queue of {@value #DEFAULT_RETURN_QUEUE} slots, a one-second sweep
 * interval, no reset or discard hook, owned by the first thread that uses it. Not thread-safe; a
 * builder builds one pool.
 *
 * @param <T> the pooled type
 */
public final class LookasidePoolBuilder<T>
{
    /** Default cap on idle objects. */
    public static final int DEFAULT_MAX_IDLE = 1024;
    /** Default capacity of the cross-thread return queue. */
    public static final int DEFAULT_RETURN_QUEUE = 1024;
    /** Default sweep interval. */
    public static final Duration DEFAULT_SWEEP_INTERVAL = Duration.ofSeconds(1);

    final String name;
    final Supplier<? extends T> factory;
    int maxIdle = DEFAULT_MAX_IDLE;
    int preallocate;
    int returnQueueCapacity = DEFAULT_RETURN_QUEUE;
    long sweepIntervalNanos = DEFAULT_SWEEP_INTERVAL.toNanos();
    Consumer<? super T> reset;
    Consumer<? super T> discard;
    Thread owner;

    LookasidePoolBuilder(final String name, final Supplier<? extends T> factory)
    {
        if (name == null || name.isBlank())
        {
            throw new IllegalArgumentException("a pool needs a non-blank name (it appears in stats and messages)");
        }
        this.name = name;
        this.factory = Objects.requireNonNull(factory, "factory");
    }

    /**
     * @param max the most idle objects the pool keeps (new and old generation together); a release
     *            beyond it lets the oldest idle object go. 0 keeps nothing.
     * @return this builder
     */
    public LookasidePoolBuilder<T> maxIdle(final int max)
    {
        if (max < 0)
        {
            throw new IllegalArgumentException("maxIdle must be >= 0, was " + max);
        }
        this.maxIdle = max;
        return this;
    }

    /**
     * @param count objects to create when the pool is built. They are also the pool's floor: a
     *              sweep never takes the idle count below it, so preallocation is not undone by
     *              the first quiet second. At most {@link #maxIdle(int)}.
     * @return this builder
     */
    public LookasidePoolBuilder<T> preallocate(final int count)
    {
        if (count < 0)
        {
            throw new IllegalArgumentException("preallocate must be >= 0, was " + count);
        }
        this.preallocate = count;
        return this;
    }

    /**
     * @param capacity slots in the queue through which other threads return objects; rounded up to
     *                 a power of two. When it is full a returned object is dropped and counted,
     *                 never waited for.
     * @return this builder
     */
    public LookasidePoolBuilder<T> returnQueueCapacity(final int capacity)
    {
        if (capacity < 2)
        {
            throw new IllegalArgumentException("returnQueueCapacity must be >= 2, was " + capacity);
        }
        this.returnQueueCapacity = capacity;
        return this;
    }

    /**
     * @param interval time between sweeps run by {@link LookasidePool#onIdle(long)}; an idle object
     *                 is let go one to two intervals after its release
     * @return this builder
     */
    public LookasidePoolBuilder<T> sweepInterval(final Duration interval)
    {
        if (interval.isNegative() || interval.isZero())
        {
            throw new IllegalArgumentException("sweepInterval must be positive, was " + interval);
        }
        this.sweepIntervalNanos = interval.toNanos();
        return this;
    }

    /**
     * @param hook puts a released object back into its initial state, so that the next user needs
     *             no re-initialisation and the pool holds no stale references. It runs on the
     *             releasing thread, which may not be the owner.
     * @return this builder
     */
    public LookasidePoolBuilder<T> reset(final Consumer<? super T> hook)
    {
        this.reset = Objects.requireNonNull(hook, "hook");
        return this;
    }

    /**
     * @param hook receives every object the pool lets go (cap, sweep, full return queue) instead of
     *             leaving it to the garbage collector, e.g. to give a memory chunk back to its
     *             slab. It may run on any thread and must not block.
     * @return this builder
     */
    public LookasidePoolBuilder<T> onDiscard(final Consumer<? super T> hook)
    {
        this.discard = Objects.requireNonNull(hook, "hook");
        return this;
    }

    /**
     * @param thread the pool's owner, for a pool built before its thread runs (a worker's pools are
     *               built with the worker); default: the first thread that uses the pool
     * @return this builder
     */
    public LookasidePoolBuilder<T> owner(final Thread thread)
    {
        this.owner = Objects.requireNonNull(thread, "thread");
        return this;
    }

    /**
     * Builds the pool and creates the preallocated objects on the calling thread. Hand the pool
     * to its owner by a safe publication (starting the owner thread after building is one).
     *
     * @return the pool
     * @throws IllegalStateException if the JVM lacks the option Agrona's queues need
     */
    public LookasidePool<T> build()
    {
        if (preallocate > maxIdle)
        {
            throw new IllegalArgumentException("preallocate (" + preallocate + ") cannot exceed maxIdle (" + maxIdle + ")");
        }
        AgronaAccess.check();
        return new LookasidePool<>(this);
    }
}
