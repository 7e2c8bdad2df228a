package io.millrace.memory;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One owner thread's queue of reference-counted objects that other threads are done with, or may
 * be (see {@link RefCounted}): a Treiber stack linked through the objects themselves
 * ({@link RefCounted#mergeNext}), so it is lock-free, never full and allocates nothing. Any thread
 * pushes; only the owner drains, taking the whole stack with one atomic exchange, and decides
 * about each object on its own thread, where deallocating is plain stores.
 *
 * <p>Why not a bounded array queue, as the pools' return queues are: an object pushed here holds a
 * count only the owner can settle, so a push must never fail. An object is on the stack at most
 * once ({@link RefCounted#claimEnqueued()}), so the stack is bounded by the objects that exist.
 *
 * <p>Threading: {@link #push} from any thread. {@link #drain()} on the owner only: the allocator
 * calls it on every allocation (one acquire load when empty) and on every idle turn.
 * Ordering: the pusher's CAS on its object's count and its CAS on {@link #head} are releases; the
 * owner's exchange is an acquire, so everything the releasing thread did with the object happens
 * before the owner deallocates it.
 *
 * <p>When the owner has ended for good, {@link #ownerStopped()} drains what is queued on the
 * calling thread, and from then on every push drains at once on the pushing thread, under this
 * queue's monitor (the owner's last stores are ordered before by its termination, which the caller
 * of {@code ownerStopped()} saw). As in {@link LookasidePool}, a push then a full fence then a look
 * at the flag, against the flag then a fence then a drain: one of the two always finds the object.
 */
final class MergeQueue
{
    private static final Logger LOG = LoggerFactory.getLogger(MergeQueue.class);
    private static final VarHandle HEAD;
    private static final VarHandle STOPPED;
    private static final VarHandle OVER_RELEASED;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            HEAD = lookup.findVarHandle(MergeQueue.class, "head", RefCounted.class);
            STOPPED = lookup.findVarHandle(MergeQueue.class, "stopped", boolean.class);
            OVER_RELEASED = lookup.findVarHandle(MergeQueue.class, "overReleased", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final String name;
    @SuppressWarnings("unused")
    private volatile RefCounted head;
    @SuppressWarnings("unused")
    private volatile boolean stopped;
    @SuppressWarnings("unused")
    private volatile long overReleased;

    /**
     * @param name the owner's name, for messages
     */
    MergeQueue(final String name)
    {
        this.name = name;
    }

    /** Queues an object for its owner; any thread. Never blocks, never fails. */
    void push(final RefCounted object)
    {
        if (!object.claimEnqueued())
        {
            return;                     // already on the stack: its drain will see the new state
        }
        for (;;)
        {
            final RefCounted h = (RefCounted)HEAD.getVolatile(this);
            object.mergeNext = h;
            if (HEAD.compareAndSet(this, h, object))
            {
                break;
            }
        }
        VarHandle.fullFence();
        if ((boolean)STOPPED.getVolatile(this))
        {
            drainStopped();
        }
    }

    /**
     * Settles every queued object: deallocates what nobody holds, gives the rest back to the owner's
     * count. Owner only; one acquire load when nothing is queued.
     *
     * @return objects taken off the queue
     */
    int drain()
    {
        if (HEAD.getAcquire(this) == null)
        {
            return 0;
        }
        return settle((RefCounted)HEAD.getAndSet(this, null));
    }

    /**
     * The owner has terminated: settles what is queued now on this thread, and every later push
     * on its pushing thread.
     *
     * @return objects settled now
     */
    int ownerStopped()
    {
        STOPPED.setVolatile(this, true);
        VarHandle.fullFence();
        return drainStopped();
    }

    /**
     * @return objects found released more often than retained
     */
    long overReleased()
    {
        return (long)OVER_RELEASED.getVolatile(this);
    }

    private synchronized int drainStopped()
    {
        return settle((RefCounted)HEAD.getAndSet(this, null));
    }

    private int settle(RefCounted list)
    {
        int n = 0;
        while (list != null)
        {
            final RefCounted object = list;
            list = object.mergeNext;
            object.mergeNext = null;
            object.clearEnqueued();     // before settling it: a push after our decision must land again
            n++;
            try
            {
                final int outcome = object.mergeQueued();
                if (outcome < 0)
                {
                    OVER_RELEASED.getAndAdd(this, 1L);
                    LOG.error("{} (allocator '{}') was released more often than it was retained: a release on a thread " +
                        "other than its owner took its count below zero. It has been given back; find the holder that " +
                        "releases without owning a reference (LeakDetector.paranoid() and touch() show its path).",
                        object.describe(), name);
                }
            }
            catch (final RuntimeException ex)
            {
                // A deallocation hook failed (e.g. a FileRegionOwner): the rest of the queue must still be settled.
                LOG.error("settling {} from the merge queue of allocator '{}' failed", object.describe(), name, ex);
            }
        }
        return n;
    }
}
