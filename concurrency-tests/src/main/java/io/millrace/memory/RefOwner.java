package io.millrace.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Test-only: moves a biased {@link RefCounted}'s ownership to another thread.
 *
 * <p>An object's owner is the thread that allocated it, and in a server it never changes while the
 * object is live. jcstress picks its threads itself and may build a state on one of the actors'
 * threads, so a test builds the object (its owner is then the state's thread), retains as the owner
 * if it needs local counts, always leaves it to {@link PoolOwner#NOBODY} at the end of the
 * constructor (retains after that take the shared path), and the owner actor takes it over first
 * thing. Each takeover is ordered after what the state did by jcstress's own synchronisation, as an
 * allocating worker's objects reach other threads through a ring publish. The other actor may read
 * the owner field while it changes; it sees nobody or the owner actor, neither of which is itself,
 * which is all the count needs. (Without the hand to nobody, an actor that had built the state could
 * still see itself as the owner, and two threads would count in the owner's plain field: the first
 * quick run of these tests showed exactly that as a forbidden outcome.)
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
