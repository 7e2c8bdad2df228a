package io.millrace.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Test-only: moves a {@link LookasidePool}'s ownership to the calling thread.
 *
 * <p>A pool belongs to one thread, fixed before that thread runs ({@link LookasidePoolBuilder#owner})
 * or claimed by its first user. jcstress picks its actor and arbiter threads itself and builds the
 * states on yet another thread, so a test builds the pool owned by {@link #NOBODY} (a thread that
 * never runs: every release is foreign, none claims the pool) and the owner actor, then the
 * arbiter, take it over here. Each takeover is ordered after everything the previous owner did by
 * jcstress's own synchronisation (state construction before the actors, actors before the arbiter),
 * as a worker's pool is handed over by starting the worker.
 */
final class PoolOwner
{
    /** Owns pools between owners; never started. */
    static final Thread NOBODY = new Thread(() -> { }, "jcstress-no-owner");

    private static final VarHandle OWNER;

    static
    {
        try
        {
            OWNER = MethodHandles.privateLookupIn(LookasidePool.class, MethodHandles.lookup())
                .findVarHandle(LookasidePool.class, "owner", Thread.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private PoolOwner()
    {
    }

    /** The calling thread becomes the owner. */
    static void takeOver(final LookasidePool<?> pool)
    {
        OWNER.setVolatile(pool, Thread.currentThread());
    }

    /** Nobody owns the pool: every release is foreign until {@link #takeOver}. */
    static void disown(final LookasidePool<?> pool)
    {
        OWNER.setVolatile(pool, NOBODY);
    }
}
