package io.millrace.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Test-only: moves a biased {@link RefCounted}'s ownership to another thread.
 *
 * <p>An object's owner is the thread that allocated it. jcstress builds the state on a thread of its
 * own and picks its actor threads itself, so a test builds the object (its owner is then the state's
 * thread), optionally leaves it to {@link PoolOwner#NOBODY} so that the state's own retains take the
 * shared path, and the owner actor takes it over first thing. Each takeover is ordered after what
 * the previous owner did by jcstress's own synchronisation (state construction before the actors), as
 * an allocating worker's objects reach other threads through a ring publish. The other actor may
 * read the owner field while it changes; it sees the old owner or the new one, neither of which is
 * itself, which is all the count needs.
 */
final class RefOwner
{
    private static final VarHandle OWNER;

    static
    {
        try
        {
            OWNER = MethodHandles.privateLookupIn(RefCounted.class, MethodHandles.lookup())
                .findVarHandle(RefCounted.class, "owner", Thread.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private RefOwner()
    {
    }

    /** The calling thread becomes the owner. */
    static void takeOver(final RefCounted object)
    {
        OWNER.setVolatile(object, Thread.currentThread());
    }

    /** Nobody owns the object until {@link #takeOver}: every retain and release takes the shared path. */
    static void disown(final RefCounted object)
    {
        OWNER.setVolatile(object, PoolOwner.NOBODY);
    }
}
