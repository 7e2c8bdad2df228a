package io.millrace.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A reference count, in the manner of Netty's {@code ReferenceCounted}: an object starts with a
 * count of one when it is handed out, {@code retain()} adds a holder, {@link #release()} removes
 * one, and the release that takes the count to zero gives the object's memory back. Counting below
 * zero or reviving a released object throws {@link IllegalReferenceCountException} at once, naming
 * the object and the count.
 *
 * <p>Threading: the count is changed with compare-and-set loops on a {@link VarHandle}, so holders
 * on different threads may retain and release concurrently, and the count never even briefly
 * takes a wrong value (a {@code getAndAdd} that must be undone would). Only the thread whose
 * release reached zero runs {@link #deallocate()}. Everything else about a subclass is owned by one
 * thread at a time, as that subclass documents.
 *
 * <p>Pooled objects are reused after their last release, so a stale reference that is used after
 * the object has been handed out again cannot be told from a legitimate one; what is caught is a
 * use or release between the last release and the reuse, which is where such bugs show first.
 */
public abstract sealed class RefCounted permits BufferDescriptor, BufferChain, Chunk
{
    private static final VarHandle REF_CNT;

    static
    {
        try
        {
            REF_CNT = MethodHandles.lookup().findVarHandle(RefCounted.class, "refCnt", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /** Accessed only through {@link #REF_CNT}. Zero while the object sits in a pool. */
    @SuppressWarnings("unused")
    private volatile int refCnt;

    RefCounted()
    {
    }

    /**
     * @return the current number of holders; zero once released
     */
    public final int refCnt()
    {
        return (int)REF_CNT.getVolatile(this);
    }

    /**
     * Gives up one holder's reference. The release that takes the count to zero returns the
     * object's memory to its pool; the caller must not touch the object afterwards.
     *
     * @return true if this release was the last and the object was given back
     * @throws IllegalReferenceCountException if the object was already released
     */
    public final boolean release()
    {
        for (;;)
        {
            final int count = (int)REF_CNT.getVolatile(this);
            if (count <= 0)
            {
                throw new IllegalReferenceCountException(count, describe() + " was already released: refCnt " + count +
                    ", so release() would take it to " + (count - 1) + ". Whoever released it last must not touch it again; " +
                    "a second holder must call retain() before the first one releases.");
            }
            if (count == 1)
            {
                checkLastRelease();
            }
            if (REF_CNT.compareAndSet(this, count, count - 1))
            {
                if (count == 1)
                {
                    deallocate();
                    return true;
                }
                return false;
            }
        }
    }

    /** Adds a holder; subclasses expose it as {@code retain()} with their own return type. */
    final void retainOnce()
    {
        for (;;)
        {
            final int count = (int)REF_CNT.getVolatile(this);
            if (count <= 0)
            {
                throw new IllegalReferenceCountException(count, describe() + " is released (refCnt " + count +
                    "): retain() cannot bring it back. Retain while you still hold a reference, not after the last release.");
            }
            if (count == Integer.MAX_VALUE)
            {
                throw new IllegalReferenceCountException(count, describe() + ": refCnt overflow on retain(); " +
                    "something retains it in a loop without releasing.");
            }
            if (REF_CNT.compareAndSet(this, count, count + 1))
            {
                return;
            }
        }
    }

    /**
     * Throws if the object has been released. A plain opaque read: this is on every data access, so
     * it checks, it does not synchronise.
     *
     * @param operation what the caller was about to do, for the message
     */
    final void ensureAccessible(final String operation)
    {
        final int count = (int)REF_CNT.getOpaque(this);
        if (count <= 0)
        {
            throw new IllegalReferenceCountException(count, describe() + " is released (refCnt " + count + "): " +
                operation + " after release. Keep a reference counted (retain()) for as long as you use it.");
        }
    }

    /** Sets the count of an object just taken from its pool; the release store publishes its fields. */
    final void initRefCnt()
    {
        REF_CNT.setRelease(this, 1);
    }

    /** Hook for a check before the last release; the default accepts it. */
    void checkLastRelease()
    {
    }

    /** Gives the object's memory back. Runs once, on the thread whose release reached zero. */
    abstract void deallocate();

    /**
     * @return the object's name for messages, e.g. {@code buffer w0#17 (chunk 3 of slab 0)}
     */
    abstract String describe();
}
