package io.millrace.lock;

import io.millrace.jfr.JfrSwitch;
import io.millrace.jfr.LockWaitEvent;
import io.millrace.stage.HeldResource;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;
import io.millrace.stage.Suspension;
import org.HdrHistogram.SingleWriterRecorder;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Keeps the fields of the object allocated before a cell off the cell's cache line. */
abstract class CellLhsPad
{
    long p01, p02, p03, p04, p05, p06, p07;
}

/**
 * A cell's fields, between two paddings: two workers on neighbouring cells (two data sets of one
 * stage) must not share a cache line, or "no contention" would still cost coherence traffic.
 */
abstract class CellFields extends CellLhsPad
{
    /** {@code null}: free. {@link Cell#HELD}: held, no pushed waiter. A waiter: held, newest pushed waiter. */
    volatile Waiter state;
    /** The owning request; written only by whoever holds or hands over the cell. */
    StageContext owner;
    /** Waiter the cell was handed to, until that request comes back to take it over. Owner's field. */
    Waiter granted;
    /** Waiters taken off {@link #state}, oldest first. Owner's field. */
    Waiter fifo;
    /** Acquisitions that found the cell free. Owner's field, opaque stores for readers. */
    long uncontended;
    /** Acquisitions that found the cell held and parked; added to by parking requests. */
    volatile long contended;
    /** Requests that completed holding or waiting for the cell. */
    volatile long abandoned;
    /** Wait times, created on the first contended acquisition; written by the owner only. */
    volatile SingleWriterRecorder waitTimes;
    /** When the current hold began, if it is a sampled one; 0 otherwise. Owner's field. */
    long heldSinceNanos;
    /** Sampled holds, and their total duration. Owner's fields, opaque stores for readers. */
    long holdSamples;
    long holdNanos;
}

/** Keeps the next object's fields off this cell's cache line. */
abstract class CellRhsPad extends CellFields
{
    long p11, p12, p13, p14, p15, p16, p17;
}

/**
 * One lock of the grid: a (stage, data set) pair. Acquiring never blocks a thread: a request that
 * finds the cell held parks on the cell's waiter queue, and the release hands the cell straight to
 * the oldest waiter and resumes it through its home worker's inbox.
 *
 * <p>The protocol is lock-free and never makes a thread wait for another one:
 * <ul>
 *   <li><b>State word.</b> {@link #state} is {@code null} (free), {@link #HELD} (held) or the newest
 *       pushed waiter (held, with waiters). Taking a free cell is one CAS {@code null -> HELD}.</li>
 *   <li><b>Parking</b> pushes a waiter with one CAS, Treiber-style: push only, so no ABA.</li>
 *   <li><b>Releasing</b> first hands over to the oldest waiter of the owner-private FIFO
 *       {@link #fifo}. When that is empty it either frees the cell (CAS {@code HELD -> null}) or takes
 *       every pushed waiter at once (CAS {@code top -> HELD}) and reverses them into the FIFO. Waiters
 *       in the FIFO are all older than those still pushed, so service is strictly first come, first
 *       served in the order of the push CAS. A releaser never waits for a half-done push: there is
 *       none, a push is a single CAS.</li>
 *   <li><b>Hand-over.</b> Ownership is transferred before the waiter is resumed ({@link #owner} and
 *       {@link #granted} are set, then {@code resume}); the ring publish of {@code resume} carries
 *       every owner field to the grantee. The grantee's stage runs again, its {@code acquire} sees it
 *       owns the cell and takes the grant over (records the wait, swaps its registration).</li>
 * </ul>
 *
 * <p>Threading: the owner fields ({@link #owner}, {@link #granted}, {@link #fifo}, the uncontended
 * counter, the wait recorder, the hold timing) are written only by the request that holds the cell, or by whoever
 * acts for it (the releaser during a hand-over, the runtime's abandon call); each hand-over is a CAS
 * on {@link #state} or a ring publish, so consecutive owners are ordered. Any request may read
 * {@link #owner} without synchronisation: it can only see its own context there if it owns the cell.
 * Contexts are reused by later requests, but every path that ends a request's ownership (release,
 * the runtime's abandon call, a rejected hand-over) clears {@link #owner} before the request
 * completes, and each such clear happens-before the context's reuse.
 */
final class Cell extends CellRhsPad implements HeldResource
{
    /** State of a held cell without pushed waiters. Never parked, never resumed. */
    static final Waiter HELD = new Waiter();

    private static final VarHandle STATE;
    private static final VarHandle UNCONTENDED;
    private static final VarHandle CONTENDED;
    private static final VarHandle ABANDONED;
    private static final VarHandle HOLD_SAMPLES;
    private static final VarHandle HOLD_NANOS;

    /**
     * One uncontended acquisition in this many has its hold timed (two {@code nanoTime} reads); a
     * contended one always is, since taking it over reads the clock anyway for its wait time.
     */
    static final int HOLD_SAMPLE_EVERY = 8;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(CellFields.class, "state", Waiter.class);
            UNCONTENDED = lookup.findVarHandle(CellFields.class, "uncontended", long.class);
            CONTENDED = lookup.findVarHandle(CellFields.class, "contended", long.class);
            ABANDONED = lookup.findVarHandle(CellFields.class, "abandoned", long.class);
            HOLD_SAMPLES = lookup.findVarHandle(CellFields.class, "holdSamples", long.class);
            HOLD_NANOS = lookup.findVarHandle(CellFields.class, "holdNanos", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final LockGrid grid;
    private final int row;
    private final int column;

    Cell(final LockGrid grid, final int row, final int column)
    {
        this.grid = grid;
        this.row = row;
        this.column = column;
    }

    /**
     * Takes the cell for {@code ctx}, or parks the request on it.
     *
     * @return {@code true} if {@code ctx} owns the cell now; {@code false} if the request was suspended
     *         and queued, and the stage must return {@link Outcome#blocked()}
     */
    boolean acquire(final StageContext ctx)
    {
        if (owner == ctx)
        {
            final Waiter g = granted;
            if (g != null)
            {
                takeOver(ctx, g);
            }
            return true;
        }
        // Register first: if the request's hold table is full it throws before anything is taken.
        ctx.hold(this);
        if ((Waiter)STATE.getVolatile(this) == null && STATE.compareAndSet(this, null, HELD))
        {
            owner = ctx;
            final long n = uncontended + 1;
            UNCONTENDED.setOpaque(this, n);
            heldSinceNanos = (n & (HOLD_SAMPLE_EVERY - 1)) == 0 ? System.nanoTime() : 0;
            return true;
        }
        ctx.unhold(this);
        return park(ctx);
    }

    private boolean park(final StageContext ctx)
    {
        final Waiter w = grid.takeWaiter();
        ctx.hold(w);
        final Suspension suspension;
        try
        {
            suspension = ctx.suspend();
        }
        catch (final RuntimeException ex)
        {
            ctx.unhold(w);
            throw ex;
        }
        // Suspend before the push: a releaser may resume us the instant the waiter is visible.
        w.prepare(this, ctx, suspension, Outcome.next(ctx.stage()), System.nanoTime());
        w.waitEvent = JfrSwitch.recorderUp() ? LockWaitEvent.beginIfEnabled() : null; // JFR; published by the push
        for (;;)
        {
            final Waiter top = (Waiter)STATE.getVolatile(this);
            if (top == null)
            {
                // Freed since we looked. We are already suspended, so take it and grant it to
                // ourselves: the resume is one publish into our own inbox.
                if (!STATE.compareAndSet(this, null, HELD))
                {
                    continue;
                }
                if (!grant(w))
                {
                    handOff();
                }
                break;
            }
            w.next = top == HELD ? null : top;
            if (STATE.compareAndSet(this, top, w))
            {
                break;
            }
        }
        // Counted once queued, so that a reader who sees the count also sees the queue position.
        CONTENDED.getAndAdd(this, 1L);
        return false;
    }

    /** The grantee is back in its stage: the grant becomes an ordinary hold. */
    private void takeOver(final StageContext ctx, final Waiter g)
    {
        granted = null;
        ctx.unhold(g);
        ctx.hold(this);
        SingleWriterRecorder recorder = waitTimes;
        if (recorder == null)
        {
            // Packed and auto-resizing: cells that are never contended cost nothing, the others
            // only the buckets they use.
            recorder = new SingleWriterRecorder(2, true);
            waitTimes = recorder;
        }
        final long now = System.nanoTime();
        recorder.recordValue(Math.max(0, now - g.parkedAtNanos));
        heldSinceNanos = now;
        final LockWaitEvent waited = g.waitEvent;
        if (waited != null)
        {
            g.waitEvent = null;
            waited.finish(grid.name(), grid.rowName(row), column);
        }
        if (g.releaserDone())
        {
            grid.recycleWaiter(g);
        }
    }

    /**
     * Gives the cell back on behalf of its owner {@code ctx}.
     *
     * @throws IllegalStateException if {@code ctx} does not own the cell
     */
    void release(final StageContext ctx)
    {
        if (owner != ctx)
        {
            throw new IllegalStateException("request does not hold " + this + " (it is " +
                ((Waiter)STATE.getVolatile(this) == null ? "free" : "held by another request") +
                "): release a cell once, and only after acquire returned true for it");
        }
        final Waiter g = granted;
        if (g != null)
        {
            takeOver(ctx, g);
        }
        ctx.unhold(this);
        final long since = heldSinceNanos;
        if (since != 0)
        {
            HOLD_NANOS.setOpaque(this, holdNanos + Math.max(0, System.nanoTime() - since));
            HOLD_SAMPLES.setOpaque(this, holdSamples + 1);
        }
        handOff();
    }

    /**
     * The current owner leaves: hand the cell to the oldest waiter still interested, or free it.
     * Called by the owner or by whoever acts for it.
     */
    private void handOff()
    {
        owner = null;
        granted = null;
        heldSinceNanos = 0;
        for (;;)
        {
            Waiter w = fifo;
            if (w == null)
            {
                final Waiter top = (Waiter)STATE.getVolatile(this);
                if (top == HELD)
                {
                    if (STATE.compareAndSet(this, HELD, null))
                    {
                        return;
                    }
                    continue; // a waiter was pushed meanwhile
                }
                // Take all pushed waiters at once; the cell stays held. Only pushes race with this
                // CAS, and they only add on top, so a failure just means: look again.
                if (!STATE.compareAndSet(this, top, HELD))
                {
                    continue;
                }
                w = reverse(top);
            }
            fifo = w.next;
            w.next = null;
            if (grant(w))
            {
                return;
            }
        }
    }

    private static Waiter reverse(final Waiter newest)
    {
        Waiter older = newest;
        Waiter younger = null;
        while (older != null)
        {
            final Waiter next = older.next;
            older.next = younger;
            younger = older;
            older = next;
        }
        return younger;
    }

    /**
     * Transfers ownership to {@code w}, then resumes it. After a successful resume this thread no
     * longer touches the cell: the grantee owns every field.
     *
     * @return {@code false} if the waiter's request is gone; the caller still holds the cell
     */
    private boolean grant(final Waiter w)
    {
        if (!w.tryGrant())
        {
            return false; // cancelled: its request completed while parked
        }
        owner = w.ctx;
        granted = w;
        try
        {
            // resumeFirst: if the waiter lives on this thread's worker, it runs as soon as the
            // releasing dispatch returns, not after the rest of the batch (which would queue behind
            // the cell it holds). From elsewhere it is one publish into its home worker's inbox.
            w.suspension.resumeFirst(w.outcome);
        }
        catch (final RuntimeException ex)
        {
            // The runtime withdrew the suspension: the stage threw, or did not return blocked()
            // after acquire returned false. The request completes with that error; keep the cell.
            owner = null;
            granted = null;
            w.rejected();
            return false;
        }
        w.resumed();
        return true;
    }

    /** Runtime: the owner completed without releasing. Release for it and count the misuse. */
    @Override
    public void releaseAbandoned(final StageContext holder)
    {
        if (owner != holder)
        {
            return; // a request registers a cell only while it owns it, so this cannot happen
        }
        ABANDONED.getAndAdd(this, 1L);
        handOff();
    }

    /** Runtime, via the waiter: the request was handed the cell but completed without taking it over. */
    void releaseAbandonedGrant(final StageContext holder, final Waiter w)
    {
        if (owner == holder && granted == w)
        {
            ABANDONED.getAndAdd(this, 1L);
            handOff();
        }
    }

    void countAbandoned()
    {
        ABANDONED.getAndAdd(this, 1L);
    }

    int row()
    {
        return row;
    }

    int column()
    {
        return column;
    }

    long uncontendedCount()
    {
        return (long)UNCONTENDED.getOpaque(this);
    }

    long contendedCount()
    {
        return contended;
    }

    long abandonedCount()
    {
        return abandoned;
    }

    /** @return sampled holds; read apart from {@link #holdNanosTotal()}, so a hold apart at most */
    long holdSampleCount()
    {
        return (long)HOLD_SAMPLES.getOpaque(this);
    }

    /** @return total duration of the sampled holds, in nanoseconds */
    long holdNanosTotal()
    {
        return (long)HOLD_NANOS.getOpaque(this);
    }

    SingleWriterRecorder waitRecorder()
    {
        return waitTimes;
    }

    @Override
    public String toString()
    {
        return "lock-grid cell [stage '" + grid.rowName(row) + "' x data set " + column + "] of grid '" +
            grid.name() + "'";
    }
}
