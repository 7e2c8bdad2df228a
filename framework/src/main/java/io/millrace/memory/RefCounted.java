package io.millrace.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A reference count, in the manner of Netty's {@code ReferenceCounted}: an object starts with a
 * count of one when it is handed out, {@code retain()} adds a holder, {@link #release()} removes
 * one, and the release that takes the count to zero gives the object's memory back. Counting below
 * zero or reviving a released object throws {@link IllegalReferenceCountException}, naming the
 * object and the count.
 *
 * <h2>Biased counting: no atomic while the object stays on its owner</h2>
 *
 * Most buffers are allocated, used and released on one worker. The count is therefore split in two
 * (biased reference counting, after Choi, Shull and Torrellas, PACT 2018):
 *
 * <ul>
 *   <li>{@link #local}: the <em>owner</em>'s count. The owner is the thread that allocated the
 *       object (its allocator's worker). Only the owner changes it, with plain read-modify-write
 *       and a release store; no atomic instruction.</li>
 *   <li>{@link #word}: the <em>shared</em> count of every other thread, changed only with
 *       compare-and-set, together with flags and a stamp (layout below).</li>
 * </ul>
 *
 * The object's count is {@code local + shared}. A reference may be retained on one thread and
 * released on another, so the shared part may be negative: a buffer the owner allocated (local 1)
 * and handed to a blocking stage that releases it there has local 1, shared -1.
 *
 * <ul>
 *   <li><b>Owner, object not shared</b> (the hot path): retain and release change {@code local}; each
 *       also reads the word once (a plain load on x86), so that the owner knows the exact count. The
 *       release that takes {@code local} to zero with the word still all zero stores {@link #DEAD}
 *       and deallocates at once.</li>
 *   <li><b>Owner's count reaches zero while other threads hold references:</b> the owner sets
 *       {@link #MERGED} with a CAS; from then on the shared part is the whole count, every holder
 *       (the owner too) uses the CAS path, and the release that takes it to zero is the last.</li>
 *   <li><b>Another thread's release takes the shared part below zero:</b> only the owner can tell
 *       whether that was the last reference, so the releasing thread sets {@link #QUEUED} and pushes
 *       the object onto the owner's {@link MergeQueue}. The owner drains it when it allocates and
 *       on its idle turn ({@link #mergeQueued()}): it folds the shared part into {@code local}
 *       and, if that leaves nothing, deallocates; otherwise the object is owner-biased again.</li>
 *   <li><b>The last release on another thread</b> (known there when the object is merged, or when
 *       the count it reads is exactly its own reference) marks the object DEAD at once and pushes
 *       it too, so the deallocation - the pool push, the chunk's count, the leak tracker - runs on
 *       the owner, where all of that is plain stores.</li>
 * </ul>
 *
 * An object made with {@link #initRefCnt()} (no merge queue: tests, jcstress) is <em>unbiased</em>:
 * it starts merged, every operation is a CAS, and the last release deallocates on its thread, as
 * every count did before biasing.
 *
 * <h2>Threading and ordering</h2>
 *
 * <ul>
 *   <li>{@link #owner}, {@link #merges}: written by the owner in {@link #initRefCnt(MergeQueue)},
 *       before the object is handed to anyone; the hand-over publishes them.</li>
 *   <li>{@link #local}: written only by the owner (and, once the owner has terminated, by whoever
 *       holds the {@link #QUEUED} flag in {@link MergeQueue}'s stopped drain), always with a release
 *       store; read by other threads with an acquire load.</li>
 *   <li>{@link #word}: volatile reads, CAS by every thread; a CAS bumps the stamp, so an unchanged
 *       word means that no thread changed the shared count in between (no ABA). The owner's only
 *       plain store is {@link #DEAD} when the word was all zero, i.e. nobody else holds a reference.</li>
 * </ul>
 *
 * Why another thread may trust {@code local + shared}: it reads the word (volatile), then
 * {@code local} (acquire), then validates the word unchanged (a second volatile read, or its CAS).
 * Every reference created by the owner and dropped by another thread was handed over after its
 * creation, so the drop's CAS, read by the first volatile read, brings the creation's {@code local}
 * store with it; every reference created by another thread and dropped by the owner reached the
 * owner after its CAS, so an owner store that the acquire load sees makes that CAS visible to the
 * second read, which finds the word unchanged only if the CAS was already in the first. The two
 * reads thus form a consistent cut; a holder counts at least its own reference in it, so a sum
 * of zero or less proves the object released (fail fast), and a sum of one proves the caller's
 * release is the last. A sum it cannot trust (the word changed, or {@link #BUSY}) only means the
 * check is skipped or retried: a wrong "released" is never thrown.
 *
 * <p>Hand-over edges: the owner's stores before handing the object on reach the other thread through
 * the hand-over itself (a ring publish); another thread's use of the object before its release
 * reaches the owner through its CAS on the word and the CAS of {@link MergeQueue#push}, which the
 * owner's drain reads with an atomic exchange; only then does the owner deallocate.
 *
 * <p>What is caught at once, as before biasing: a retain or release after the last release on the
 * thread that did it, or on any thread that learnt of it through a synchronising hand-over; a
 * retain or release on the owner is exact. What is caught later: a stale retain that races with the
 * owner's last release (the owner's plain store may overwrite it; that holder's next use throws),
 * and a release past zero on another thread whose snapshot could not decide (the owner's drain logs
 * it as an over-release). Pooled objects are reused after their last release, so a stale reference
 * used after the object has been handed out again cannot be told from a legitimate one.
 */
public abstract sealed class RefCounted permits BufferDescriptor, BufferChain, Chunk
{
    /** Flag: the owner's count is zero for good; the shared part is the whole count. */
    static final long MERGED = 1;
    /** Flag: in the owner's merge queue (or being drained); the queue's drain owns the decision. */
    static final long QUEUED = 2;
    /** Flag: released for good; terminal until the object is reused. */
    static final long DEAD = 4;
    /** Flag: the owner is moving the shared part into {@code local}; the sum is not to be trusted. */
    static final long BUSY = 8;
    private static final long FLAGS = 0xF;
    /** Bits 4..31 count compare-and-sets, so that an unchanged word proves nobody changed it. */
    private static final long STAMP_MASK = 0xFFFF_FFF0L;
    private static final long STAMP_ONE = 0x10;

    private static final VarHandle WORD;
    private static final VarHandle LOCAL;
    private static final VarHandle ENQUEUED;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            WORD = lookup.findVarHandle(RefCounted.class, "word", long.class);
            LOCAL = lookup.findVarHandle(RefCounted.class, "local", int.class);
            ENQUEUED = lookup.findVarHandle(RefCounted.class, "enqueued", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /** Shared count (high 32 bits, signed), stamp (bits 4..31), flags (bits 0..3). */
    @SuppressWarnings("unused")
    private volatile long word = DEAD;
    /** The owner's count; see the class comment for who writes it and how. */
    private int local;
    /** The allocating thread; null for an unbiased object. */
    private Thread owner;
    /** The owner's merge queue; null for an unbiased object. */
    private MergeQueue merges;
    /** {@link MergeQueue}'s link; written by the pushing thread, read by the draining one. */
    RefCounted mergeNext;
    /** 1 while on a merge queue's stack: an object is never on it twice. */
    @SuppressWarnings("unused")
    private volatile int enqueued;

    RefCounted()
    {
    }

    /**
     * @return the current number of holders; zero once released. On a thread other than the owner
     *         the value is a consistent snapshot, which may already be out of date when it returns
     */
    public final int refCnt()
    {
        for (;;)
        {
            final long w = (long)WORD.getVolatile(this);
            if ((w & DEAD) != 0)
            {
                return 0;
            }
            final int c = count(w);
            if ((w & MERGED) != 0)
            {
                return Math.max(0, c);
            }
            if (owner == Thread.currentThread())
            {
                return clamp((long)local + c);
            }
            if ((w & BUSY) == 0)
            {
                final long sum = (long)(int)LOCAL.getAcquire(this) + c;
                if ((long)WORD.getVolatile(this) == w)
                {
                    return clamp(sum);
                }
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Gives up one holder's reference. The release that takes the count to zero returns the
     * object's memory to its pool; the caller must not touch the object afterwards.
     *
     * @return true if this release was the last; false if other holders remain, and also when a
     *         thread other than the owner gave up the owner's last count without being able to
     *         tell (the owner then finds the object unused and gives it back)
     * @throws IllegalReferenceCountException if the object was already released
     */
    public final boolean release()
    {
        if (owner == Thread.currentThread())
        {
            final int l = local;
            if (l > 0)
            {
                final long w = (long)WORD.getVolatile(this);
                if ((w & DEAD) == 0)
                {
                    if (l > 1 && count(w) >= 0)
                    {
                        LOCAL.setRelease(this, l - 1);
                        return false;
                    }
                    if (l == 1 && (w & ~STAMP_MASK) == 0)
                    {
                        // Nobody else holds a reference, so no other thread may touch the word now.
                        checkLastRelease();
                        LOCAL.setRelease(this, 0);
                        WORD.setRelease(this, DEAD);
                        deallocate();
                        return true;
                    }
                }
                return releaseByOwner();
            }
        }
        return releaseShared();
    }

    /** Adds a holder; subclasses expose it as {@code retain()} with their own return type. */
    final void retainOnce()
    {
        if (owner == Thread.currentThread())
        {
            final int l = local;
            if (l > 0 && l < Integer.MAX_VALUE)
            {
                final long w = (long)WORD.getVolatile(this);
                if ((w & DEAD) == 0 && (long)l + count(w) > 0)
                {
                    LOCAL.setRelease(this, l + 1);
                    return;
                }
            }
        }
        retainShared();
    }

    /**
     * Throws if the object has been released. One opaque read in the common case: this is on
     * every data access, so it checks, it does not synchronise.
     *
     * @param operation what the caller was about to do, for the message
     */
    final void ensureAccessible(final String operation)
    {
        final long w = (long)WORD.getOpaque(this);
        if ((w & DEAD) != 0 || (count(w) < 0 && releasedBeyondDoubt()))
        {
            throw new IllegalReferenceCountException(0, describe() + " is released (refCnt 0): " + operation +
                " after release. Keep a reference counted (retain()) for as long as you use it.");
        }
    }

    /**
     * @return true if the calling thread is the owner and holds the object's only count: local 1,
     *         nothing shared, no flag. Exact on the owner; always false elsewhere.
     */
    final boolean heldOnlyByOwnerOnce()
    {
        return owner == Thread.currentThread() && local == 1 && ((long)WORD.getVolatile(this) & ~STAMP_MASK) == 0;
    }

    /** Sets the count of an object just taken from its pool, unbiased (see the class comment). */
    final void initRefCnt()
    {
        initRefCnt(null);
    }

    /**
     * Sets the count of an object just taken from its pool to one, owned by the calling thread and
     * drained through {@code queue}; null makes it unbiased. The release store of the word comes
     * last, and the hand-over of the object publishes all of it.
     */
    final void initRefCnt(final MergeQueue queue)
    {
        if (queue == null)
        {
            owner = null;
            merges = null;
            local = 0;
            WORD.setRelease(this, (1L << 32) | MERGED);
        }
        else
        {
            owner = Thread.currentThread();
            merges = queue;
            local = 1;
            WORD.setRelease(this, 0L);
        }
    }

    /** Hook for a check before the last release; the default accepts it. */
    void checkLastRelease()
    {
    }

    /** Gives the object's memory back. Runs once: on the owner, or for an unbiased object on the last releaser. */
    abstract void deallocate();

    /**
     * @return the object's name for messages, e.g. {@code buffer w0#17 (chunk 3 of slab 0)}
     */
    abstract String describe();

    // ---- the owner's slow path -------------------------------------------------------------------

    /** The owner gives up one of its counts ({@code local > 0}) and the fast path could not decide. */
    private boolean releaseByOwner()
    {
        for (;;)
        {
            final int l = local;
            final long w = (long)WORD.getVolatile(this);
            final long total = (long)l + count(w);
            if ((w & DEAD) != 0 || total <= 0)
            {
                throw alreadyReleased((w & DEAD) != 0 ? 0 : total);
            }
            if (total == 1)
            {
                // Ours is the last reference. If the object is in the merge queue, the drain deallocates it.
                checkLastRelease();
                final boolean queued = (w & QUEUED) != 0;
                if (WORD.compareAndSet(this, w, next(w, 0, DEAD | (w & QUEUED))))
                {
                    LOCAL.setRelease(this, 0);
                    if (!queued)
                    {
                        deallocate();
                    }
                    return true;
                }
                continue;
            }
            if (l > 1)
            {
                LOCAL.setRelease(this, l - 1);
                return false;
            }
            // Our count goes to zero while others hold references: the shared part becomes the count.
            // The CAS first: until it lands, a snapshot still sees our count in local.
            if (WORD.compareAndSet(this, w, next(w, count(w), (w & FLAGS) | MERGED)))
            {
                LOCAL.setRelease(this, 0);
                return false;
            }
        }
    }

    // ---- every other thread, and the owner once merged --------------------------------------------

    private void retainShared()
    {
        for (;;)
        {
            final long w = (long)WORD.getVolatile(this);
            final int c = count(w);
            if ((w & DEAD) != 0 || ((w & MERGED) != 0 && c <= 0))
            {
                throw cannotRevive();
            }
            if ((w & (MERGED | BUSY)) == 0 && c <= 0)
            {
                final long sum = (long)(int)LOCAL.getAcquire(this) + c;
                if (sum <= 0)
                {
                    if ((long)WORD.getVolatile(this) == w)
                    {
                        throw cannotRevive();
                    }
                    continue;
                }
            }
            if (c == Integer.MAX_VALUE)
            {
                throw new IllegalReferenceCountException(c, describe() + ": refCnt overflow on retain(); " +
                    "something retains it in a loop without releasing.");
            }
            if (WORD.compareAndSet(this, w, next(w, c + 1, w & FLAGS)))
            {
                return;
            }
        }
    }

    private boolean releaseShared()
    {
        for (;;)
        {
            final long w = (long)WORD.getVolatile(this);
            final int c = count(w);
            if ((w & DEAD) != 0)
            {
                throw alreadyReleased(0);
            }
            final boolean queued = (w & QUEUED) != 0;
            if ((w & MERGED) != 0)
            {
                if (c <= 0)
                {
                    throw alreadyReleased(c);
                }
                if (c > 1)
                {
                    if (WORD.compareAndSet(this, w, next(w, c - 1, w & FLAGS)))
                    {
                        return false;
                    }
                    continue;
                }
                checkLastRelease();
                final MergeQueue q = merges;
                // Unbiased, or the owner itself: deallocate here. Already queued: the drain will.
                final boolean here = q == null || (!queued && owner == Thread.currentThread());
                if (WORD.compareAndSet(this, w, next(w, 0, here ? DEAD : DEAD | QUEUED)))
                {
                    if (here)
                    {
                        deallocate();
                    }
                    else if (!queued)
                    {
                        q.push(this);
                    }
                    return true;
                }
                continue;
            }
            if ((w & BUSY) == 0)
            {
                // A cut (see the class comment) if the CAS below finds the word unchanged.
                final long sum = (long)(int)LOCAL.getAcquire(this) + c;
                if (sum <= 0)
                {
                    if ((long)WORD.getVolatile(this) == w)
                    {
                        throw alreadyReleased(0);
                    }
                    continue;
                }
                if (sum == 1)
                {
                    checkLastRelease();
                    if (WORD.compareAndSet(this, w, next(w, 0, DEAD | QUEUED)))
                    {
                        if (!queued)
                        {
                            merges.push(this);
                        }
                        return true;
                    }
                    continue;
                }
            }
            final int n = c - 1;
            final boolean queue = n < 0 && !queued;
            if (WORD.compareAndSet(this, w, next(w, n, (w & FLAGS) | (queue ? QUEUED : 0))))
            {
                if (queue)
                {
                    merges.push(this);
                }
                return false;
            }
        }
    }

    /** After a negative shared count: is the object released, as far as can be proven? Never wrongly true. */
    private boolean releasedBeyondDoubt()
    {
        for (int tries = 0; tries < 4; tries++)
        {
            final long w = (long)WORD.getVolatile(this);
            if ((w & DEAD) != 0)
            {
                return true;
            }
            if ((w & (MERGED | BUSY)) != 0)
            {
                return (w & MERGED) != 0 && count(w) <= 0;
            }
            final long sum = (long)(owner == Thread.currentThread() ? local : (int)LOCAL.getAcquire(this)) + count(w);
            if (sum > 0)
            {
                return false;
            }
            if ((long)WORD.getVolatile(this) == w)
            {
                return true;
            }
        }
        return false;
    }

    // ---- the merge queue's side ------------------------------------------------------------------

    /** Claims the right to be pushed onto a merge queue's stack; false if already on it. */
    final boolean claimEnqueued()
    {
        return ENQUEUED.compareAndSet(this, 0, 1);
    }

    /** Taken off the stack by a drain: it may be pushed again from now on. */
    final void clearEnqueued()
    {
        ENQUEUED.setVolatile(this, 0);
    }

    /**
     * The owner (or, once it has terminated, the stopped queue's drain) decides about a queued
     * object: a DEAD one is deallocated; a merged one leaves the queue; a biased one has its shared
     * count moved into {@code local} under {@link #BUSY} and is deallocated if nothing is left,
     * else it is owner-biased again.
     *
     * @return 1 if deallocated, 0 if kept, -1 if deallocated after being released more often than retained
     */
    final int mergeQueued()
    {
        for (;;)
        {
            final long w = (long)WORD.getVolatile(this);
            if ((w & QUEUED) == 0)
            {
                return 0;               // a stale entry: someone raced a last release (see the class comment)
            }
            if ((w & DEAD) != 0)
            {
                LOCAL.setRelease(this, 0);
                deallocate();
                return 1;
            }
            final int c = count(w);
            if ((w & MERGED) != 0)
            {
                if (WORD.compareAndSet(this, w, next(w, c, w & FLAGS & ~QUEUED)))
                {
                    return 0;
                }
                continue;
            }
            if (c != 0 || (w & BUSY) == 0)
            {
                // Move the shared part into local; BUSY tells snapshots that the sum is in flux.
                if (WORD.compareAndSet(this, w, next(w, 0, (w & FLAGS) | BUSY)))
                {
                    LOCAL.setRelease(this, local + c);
                }
                continue;
            }
            final int l = local;
            if (l > 0)
            {
                if (WORD.compareAndSet(this, w, next(w, 0, w & FLAGS & ~(QUEUED | BUSY))))
                {
                    return 0;
                }
                continue;
            }
            if (WORD.compareAndSet(this, w, next(w, 0, DEAD)))
            {
                LOCAL.setRelease(this, 0);
                deallocate();
                return l < 0 ? -1 : 1;
            }
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static int count(final long w)
    {
        return (int)(w >> 32);
    }

    /** The word after a CAS: the new count and flags, the stamp one further. */
    private static long next(final long w, final int count, final long flags)
    {
        return ((long)count << 32) | ((w + STAMP_ONE) & STAMP_MASK) | flags;
    }

    private static int clamp(final long count)
    {
        return (int)Math.max(0, Math.min(Integer.MAX_VALUE, count));
    }

    private IllegalReferenceCountException alreadyReleased(final long count)
    {
        final int c = clamp(count);
        return new IllegalReferenceCountException(c, describe() + " was already released: refCnt " + c +
            ", so release() would take it to " + (c - 1) + ". Whoever released it last must not touch it again; " +
            "a second holder must call retain() before the first one releases.");
    }

    private IllegalReferenceCountException cannotRevive()
    {
        return new IllegalReferenceCountException(0, describe() + " is released (refCnt 0): retain() cannot bring it " +
            "back. Retain while you still hold a reference, not after the last release.");
    }
}
