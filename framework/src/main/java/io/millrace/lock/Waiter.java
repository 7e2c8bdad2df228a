package io.millrace.lock;

import io.millrace.jfr.LockWaitEvent;
import io.millrace.stage.HeldResource;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;
import io.millrace.stage.Suspension;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One parked request on one cell's waiter queue: who it is, how to resume it, and since when it waits.
 *
 * <p>Lifecycle, decided by CAS on {@link #state}:
 * <pre>
 *   WAITING --releaser wins it--> GRANTED --resume() returned--> RESUMED   (the request owns the cell)
 *                                         --resume() threw-----> REJECTED  (the runtime had withdrawn the
 *                                                                           suspension; the releaser moves on)
 *   WAITING --request completes while parked--> CANCELLED                  (the releaser skips it later)
 * </pre>
 *
 * <p>Threading: the parking request writes every plain field before the push CAS that publishes the
 * waiter on the cell; the releaser reads them after the CAS that takes the waiters off the cell.
 * After a successful {@code resume} the releaser writes only {@link #state}; the grantee recycles the
 * waiter only once it reads {@link #RESUMED}, so a recycled waiter is touched by no other thread.
 * While parked the waiter is registered with the request ({@link StageContext#hold}), so a request
 * that completes while parked (its stage threw, or returned something other than
 * {@link Outcome#blocked()} after {@code acquire} returned {@code false}) cancels it.
 */
final class Waiter implements HeldResource
{
    static final int WAITING = 0;
    static final int CANCELLED = 1;
    static final int GRANTED = 2;
    static final int RESUMED = 3;
    static final int REJECTED = 4;

    /** Most waiters a thread keeps for reuse; more are left to the garbage collector. */
    private static final int CACHE_LIMIT = 1024;
    private static final VarHandle STATE;

    static
    {
        try
        {
            STATE = MethodHandles.lookup().findVarHandle(Waiter.class, "state", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    Cell cell;
    StageContext ctx;
    Suspension suspension;
    Outcome outcome;
    long parkedAtNanos;
    /** JFR's record of this wait, begun at the park, or null when no recording enables it. */
    LockWaitEvent waitEvent;
    /** Next waiter: towards older ones while pushed on the cell, towards younger ones in its FIFO. */
    Waiter next;

    @SuppressWarnings("unused")
    private volatile int state;

    void prepare(final Cell on, final StageContext request, final Suspension parked, final Outcome resumeWith,
        final long now)
    {
        cell = on;
        ctx = request;
        suspension = parked;
        outcome = resumeWith;
        parkedAtNanos = now;
        next = null;
        // Published by the push CAS that follows.
        STATE.setOpaque(this, WAITING);
    }

    /** Releaser: claims the waiter. {@code false} if its request already gave up (completed). */
    boolean tryGrant()
    {
        return STATE.compareAndSet(this, WAITING, GRANTED);
    }

    /** Releaser, after {@code resume} returned: its last access to this waiter. */
    void resumed()
    {
        STATE.setRelease(this, RESUMED);
    }

    /** Releaser, after {@code resume} threw: the request is gone and the releaser keeps the cell. */
    void rejected()
    {
        STATE.setRelease(this, REJECTED);
    }

    /** Grantee: whether the releaser is done with this waiter, so that it may be reused. */
    boolean releaserDone()
    {
        return (int)STATE.getAcquire(this) == RESUMED;
    }

    /**
     * The request completed while this waiter was registered with it: parked and never resumed (its
     * stage misbehaved after {@code acquire} returned {@code false}), or resumed with the cell but it
     * never came back to {@code acquire} or {@code release} to take the cell over.
     */
    @Override
    public void releaseAbandoned(final StageContext holder)
    {
        if (STATE.compareAndSet(this, WAITING, CANCELLED))
        {
            cell.countAbandoned();
            return;
        }
        // A releaser claimed us and is between its grant and the end of its resume() call: a few
        // instructions. Wait for it, because once this returns the request's context may be reused
        // and a late resume() must not reach the next request. Only misuse reaches this loop.
        int s;
        int spins = 0;
        while ((s = (int)STATE.getAcquire(this)) == GRANTED)
        {
            if (++spins < 1_000)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
        }
        if (s == RESUMED)
        {
            cell.releaseAbandonedGrant(holder, this);
        }
    }

    void clear()
    {
        cell = null;
        ctx = null;
        suspension = null;
        outcome = null;
        next = null;
        waitEvent = null;
    }

    @Override
    public String toString()
    {
        return "lock-grid waiter on " + cell;
    }

    /**
     * A thread's free waiters, so that a contended acquisition allocates no waiter in steady state.
     * Confined to one thread (held in a {@link ThreadLocal}).
     */
    static final class Cache
    {
        private Waiter free;
        private int size;

        Waiter take()
        {
            final Waiter w = free;
            if (w == null)
            {
                return new Waiter();
            }
            free = w.next;
            w.next = null;
            size--;
            return w;
        }

        void give(final Waiter w)
        {
            w.clear();
            if (size < CACHE_LIMIT)
            {
                w.next = free;
                free = w;
                size++;
            }
        }
    }
}
