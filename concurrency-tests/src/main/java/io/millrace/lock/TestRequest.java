package io.millrace.lock;

import io.millrace.memory.BufferAllocator;
import io.millrace.stage.EndOfTurnHook;
import io.millrace.stage.HeldResource;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;
import io.millrace.stage.StageRef;
import io.millrace.stage.Suspension;
import io.millrace.stage.WorkerTimers;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A request context for driving cells without a pipeline: the suspension state machine, the held
 * table and the abandon loop are those of the runtime's {@code io.millrace.worker.Exchange}
 * (suspend sets SUSPENDED; resume and the runtime's cancel each CAS it back, so exactly one of
 * them wins; a resume that loses throws, as the real one does). Instead of publishing to a home
 * worker's inbox a resume records itself: how many calls, how many won, on which thread.
 */
final class TestRequest implements StageContext, Suspension
{
    static final int NOBODY = 0;
    static final int OTHER_THREAD = 1;
    static final int SUSPENDING_THREAD = 2;

    private static final int NOT_SUSPENDED = 0;
    private static final int SUSPENDED = 1;
    private static final VarHandle SUSPEND_STATE;
    private static final VarHandle RESUME_CALLS;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            SUSPEND_STATE = lookup.findVarHandle(TestRequest.class, "suspendState", int.class);
            RESUME_CALLS = lookup.findVarHandle(TestRequest.class, "resumeCalls", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final StageRef<?> stage;
    private final HeldResource[] held = new HeldResource[MAX_HELD];
    private int heldCount;

    @SuppressWarnings("unused")
    private volatile int suspendState;
    /** Calls of resume(), won or not. */
    @SuppressWarnings("unused")
    private volatile int resumeCalls;
    /** Written by the one resume that won the CAS. */
    private Outcome resumedWith;
    private int resumedBy = NOBODY;
    private Thread suspendingThread;

    TestRequest(final StageRef<?> stage)
    {
        this.stage = stage;
    }

    @Override
    public Suspension suspend()
    {
        if ((int)SUSPEND_STATE.getVolatile(this) != NOT_SUSPENDED)
        {
            throw new IllegalStateException("already suspended");
        }
        suspendingThread = Thread.currentThread();
        SUSPEND_STATE.setVolatile(this, SUSPENDED);
        return this;
    }

    /**
     * The runtime's side, winning the suspension back from any resumer: a stage that did not return
     * blocked() after parking (Exchange.cancelSuspension), or a cancel token or deadline firing while
     * the request is parked (Exchange.cancelParked).
     */
    boolean cancelSuspension()
    {
        return SUSPEND_STATE.compareAndSet(this, SUSPENDED, NOT_SUSPENDED);
    }

    @Override
    public void resume(final Outcome outcome)
    {
        RESUME_CALLS.getAndAdd(this, 1);
        if (outcome == null || outcome.kind() == Outcome.Kind.BLOCKED)
        {
            throw new IllegalArgumentException("resume(" + outcome + ")");
        }
        if (!SUSPEND_STATE.compareAndSet(this, SUSPENDED, NOT_SUSPENDED))
        {
            throw new IllegalStateException("suspension was already resumed or withdrawn");
        }
        resumedWith = outcome;
        resumedBy = Thread.currentThread() == suspendingThread ? SUSPENDING_THREAD : OTHER_THREAD;
    }

    @Override
    public void fail(final Throwable error)
    {
        throw new UnsupportedOperationException("cells never fail a suspension");
    }

    /** The runtime's abandon loop over the held table (Exchange.releaseAbandoned). */
    int releaseAbandoned()
    {
        int abandoned = 0;
        while (heldCount > 0)
        {
            final HeldResource resource = held[--heldCount];
            held[heldCount] = null;
            abandoned++;
            resource.releaseAbandoned(this);
        }
        return abandoned;
    }

    @Override
    public void hold(final HeldResource resource)
    {
        if (heldCount == held.length)
        {
            throw new IllegalStateException("hold table full");
        }
        held[heldCount++] = resource;
    }

    @Override
    public boolean unhold(final HeldResource resource)
    {
        for (int i = heldCount - 1; i >= 0; i--)
        {
            if (held[i] == resource)
            {
                held[i] = held[--heldCount];
                held[heldCount] = null;
                return true;
            }
        }
        return false;
    }

    int heldCount()
    {
        return heldCount;
    }

    HeldResource held(final int i)
    {
        return held[i];
    }

    /** Successful resumes: 0 or 1 (a second one throws). */
    int resumes()
    {
        return resumedWith == null ? 0 : 1;
    }

    int resumeCalls()
    {
        return resumeCalls;
    }

    int resumedBy()
    {
        return resumedBy;
    }

    /** The home worker ran the resume event: the request may be suspended again. */
    Outcome takeResume()
    {
        final Outcome o = resumedWith;
        resumedWith = null;
        return o;
    }

    @Override
    public BufferAllocator allocator()
    {
        throw new IllegalStateException("no allocator in this test");
    }

    @Override
    public StageRef<?> stage()
    {
        return stage;
    }

    @Override
    public boolean cancelled()
    {
        return false;
    }

    @Override
    public WorkerTimers timers()
    {
        throw new IllegalStateException("no timers in this test");
    }

    @Override
    public void atEndOfTurn(final EndOfTurnHook hook)
    {
        throw new IllegalStateException("no worker turn in this test");
    }

    @Override
    public int workerIndex()
    {
        return 0;
    }

    @Override
    public int partition()
    {
        return -1;
    }

    @Override
    public boolean endOfBatch()
    {
        return true;
    }
}
