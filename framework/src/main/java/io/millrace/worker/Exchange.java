package io.millrace.worker;

import io.millrace.stage.CancelToken;
import io.millrace.stage.EndOfTurnHook;
import io.millrace.stage.WorkerTimers;
import io.millrace.stage.HeldResource;
import io.millrace.stage.RequestCancelledException;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import io.millrace.stage.StageContext;
import io.millrace.stage.Suspension;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A request's context while it is in flight: the user's request, its home worker, and its
 * suspension state. One exchange is the {@link StageContext} and the {@link Suspension} of its
 * request, so neither costs an allocation.
 *
 * <p>Ownership: exactly one thread carries an exchange at a time (see the package doc). The plain
 * fields are handed over by the ring or queue that moves it. {@link #suspendState} is the only field
 * two threads race on: the carrier sets it in {@link #suspend()}, and either the resumer or the
 * carrier (cancelling a misused suspension) wins it back with a CAS.
 *
 * @param <R> the request type
 */
public final class Exchange<R> implements StageContext, Suspension, CancelToken.Target
{
    /** Low bit of {@link #suspendState}; the rest is the {@link #generation} the state belongs to. */
    private static final long SUSPENDED = 1;
    private static final VarHandle SUSPEND_STATE;
    private static final VarHandle HANDOFF;

    /** {@link #handoff}: not in a blocking stage. */
    static final int HANDOFF_NONE = 0;
    /** {@link #handoff}: queued for a blocking stage's thread. */
    static final int HANDOFF_QUEUED = 1;
    /** {@link #handoff}: a blocking stage's thread is running it. */
    static final int HANDOFF_RUNNING = 2;
    /** {@link #handoff}: shutdown completed it; whoever still holds it must drop it. */
    static final int HANDOFF_ABANDONED = 3;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            SUSPEND_STATE = lookup.findVarHandle(Exchange.class, "suspendState", long.class);
            HANDOFF = lookup.findVarHandle(Exchange.class, "handoff", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final PipelineRuntime<R> runtime;

    R request;
    Worker<R> home;
    int stage;
    int partition = -1;
    boolean inBlockingStage;
    boolean suspendedInThisDispatch;
    Outcome resumeOutcome;
    Throwable error;
    /** Bumped by every {@link #start}: which use of this pooled context a suspension or token belongs to. */
    long generation;
    /** The request's cancel token, or null. */
    CancelToken token;
    /** {@link System#nanoTime()} at submit, for end-to-end latency; 0 when not timed. */
    long submittedAt;
    /** {@link System#nanoTime()} when it was published to a ring or queue, for queue wait; 0 when not timed. */
    long queuedAt;
    /** Between start and completion; read by the shutdown sweep after the workers stopped. */
    boolean inFlight;
    /** The pool this context came from and goes back to; set on every acquire. */
    io.millrace.memory.LookasidePool<Exchange<R>> origin;
    private final HeldResource[] held = new HeldResource[MAX_HELD];
    private int heldCount;

    @SuppressWarnings("unused")
    private volatile long suspendState;
    /** Blocking-stage hand-off state, {@code HANDOFF_*}: a CAS decides between its thread and shutdown. */
    @SuppressWarnings("unused")
    private volatile int handoff;

    Exchange(final PipelineRuntime<R> runtime)
    {
        this.runtime = runtime;
    }

    void start(final R request, final Worker<R> home, final CancelToken cancelToken, final long submitNanos)
    {
        this.request = request;
        this.home = home;
        this.partition = -1;
        this.stage = -1;
        this.error = null;
        this.resumeOutcome = null;
        this.submittedAt = submitNanos;
        this.queuedAt = submitNanos;
        this.inFlight = true;
        final long g = generation + 1;
        this.generation = g;
        SUSPEND_STATE.setRelease(this, g << 1);
        HANDOFF.setRelease(this, HANDOFF_NONE);
        this.token = null;
        if (cancelToken != null)
        {
            cancelToken.bind(this, g); // throws, leaving token null, if the token is bound elsewhere
            this.token = cancelToken;
        }
    }

    void clear()
    {
        if (token != null)
        {
            token.unbind();
            token = null;
        }
        inFlight = false;
        request = null;
        error = null;
        resumeOutcome = null;
        home = null;
    }

    /**
     * Checks the token at a stage boundary.
     *
     * @param nowNanos the current time, or 0 to read the clock only if a deadline is set
     * @return the error to complete with, or null to go on
     */
    Throwable stopReason(final int nextStage, final long nowNanos)
    {
        final CancelToken t = token;
        if (t == null)
        {
            return null;
        }
        if (t.isCancelled())
        {
            return new RequestCancelledException(RequestCancelledException.Reason.CANCELLED, runtime.stageName(nextStage));
        }
        if (t.hasDeadline() && t.isExpired(nowNanos != 0 ? nowNanos : System.nanoTime()))
        {
            return new RequestCancelledException(RequestCancelledException.Reason.DEADLINE_EXCEEDED, runtime.stageName(nextStage));
        }
        return null;
    }

    /** Worker, handing the request to a blocking stage's queue. */
    void markQueued()
    {
        HANDOFF.setRelease(this, HANDOFF_QUEUED);
    }

    /** Blocking thread, on taking it from the queue: {@code false} if shutdown already completed it. */
    boolean tryStartBlocking()
    {
        return HANDOFF.compareAndSet(this, HANDOFF_QUEUED, HANDOFF_RUNNING);
    }

    /** Blocking thread, after the stage returned: {@code false} if shutdown completed it meanwhile. */
    boolean tryFinishBlocking()
    {
        return HANDOFF.compareAndSet(this, HANDOFF_RUNNING, HANDOFF_NONE);
    }

    /**
     * Shutdown sweep: takes the request away from a blocking stage, queued or running.
     *
     * @return the state it was taken from, or {@link #HANDOFF_NONE} if it was not in a blocking stage
     */
    int abandonHandoff()
    {
        for (;;)
        {
            final int h = (int)HANDOFF.getVolatile(this);
            if (h == HANDOFF_NONE || h == HANDOFF_ABANDONED)
            {
                return HANDOFF_NONE;
            }
            if (HANDOFF.compareAndSet(this, h, HANDOFF_ABANDONED))
            {
                return h;
            }
        }
    }

    /**
     * Shutdown sweep: withdraws a parked request's suspension, so that a late resume throws instead
     * of reaching a dead worker.
     */
    void withdrawSuspension()
    {
        final long g = generation;
        SUSPEND_STATE.compareAndSet(this, (g << 1) | SUSPENDED, g << 1);
    }

    @Override
    public void cancelParked(final long contextUse)
    {
        final long parked = (contextUse << 1) | SUSPENDED;
        if (SUSPEND_STATE.compareAndSet(this, parked, contextUse << 1))
        {
            // We won the suspension as a resumer would: the request is ours to send home. Its stage
            // name is read racily for the message only.
            resumeOutcome = null;
            error = new RequestCancelledException(token != null && !token.isCancelled() ?
                RequestCancelledException.Reason.DEADLINE_EXCEEDED : RequestCancelledException.Reason.CANCELLED, null);
            home.publishResume(this);
        }
    }

    @Override
    public boolean cancelled()
    {
        return stopReason(stage, 0) != null;
    }

    void beginDispatch(final int stageIndex, final int partitionIndex)
    {
        stage = stageIndex;
        partition = partitionIndex;
        suspendedInThisDispatch = false;
    }

    /**
     * Called by the carrier when a stage suspended the request but did not return blocked.
     *
     * @return {@code true} if the suspension was withdrawn, {@code false} if a resumer already won it
     *         (the request is then on its way home and the carrier must let it go)
     */
    boolean cancelSuspension()
    {
        final long g = generation;
        return SUSPEND_STATE.compareAndSet(this, (g << 1) | SUSPENDED, g << 1);
    }

    @Override
    public Suspension suspend()
    {
        if (inBlockingStage)
        {
            throw new IllegalStateException("stage '" + runtime.stageName(stage) +
                "' is a blocking stage: block its thread instead of suspending the request");
        }
        final long g = generation;
        if (suspendedInThisDispatch || (long)SUSPEND_STATE.getVolatile(this) != g << 1)
        {
            throw new IllegalStateException("request is already suspended in stage '" + runtime.stageName(stage) +
                "': call suspend() once per dispatch");
        }
        suspendedInThisDispatch = true;
        SUSPEND_STATE.setVolatile(this, (g << 1) | SUSPENDED);
        final CancelToken t = token;
        if (t != null && t.isCancelled())
        {
            cancelParked(g); // cancelled before it parked: withdraw at once rather than wait for a resumer
        }
        return this;
    }

    @Override
    public void resume(final Outcome outcome)
    {
        if (outcome == null || outcome.kind() == Outcome.Kind.BLOCKED)
        {
            throw new IllegalArgumentException("resume(" + outcome + "): resume with Outcome.next(stage) or Outcome.done()");
        }
        if (outcome.kind() == Outcome.Kind.NEXT && !outcome.target().belongsTo(runtime.token()))
        {
            throw new IllegalArgumentException("resume(" + outcome + "): that stage belongs to another pipeline");
        }
        wake(outcome, null);
    }

    @Override
    public void fail(final Throwable cause)
    {
        wake(null, cause == null ? new NullPointerException("Suspension.fail(null)") : cause);
    }

    private void wake(final Outcome outcome, final Throwable cause)
    {
        final long state = (long)SUSPEND_STATE.getVolatile(this);
        if ((state & SUSPENDED) == 0 || !SUSPEND_STATE.compareAndSet(this, state, state & ~SUSPENDED))
        {
            throw new IllegalStateException("suspension of a request in stage '" + runtime.stageName(stage) +
                "' was already resumed or failed (or never suspended): resume each suspension exactly once");
        }
        resumeOutcome = outcome;
        error = cause;
        queuedAt = System.nanoTime();
        home.publishResume(this);
    }

    @Override
    public void hold(final HeldResource resource)
    {
        if (resource == null)
        {
            throw new NullPointerException("hold(null)");
        }
        if (heldCount == held.length)
        {
            throw new IllegalStateException("request in stage '" + runtime.stageName(stage) + "' already holds " +
                held.length + " resources; give some back with unhold() before taking more");
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

    /**
     * Releases whatever the request still holds at completion. Each release is user code and is
     * guarded: the first non-fatal error it throws is kept in {@link #releaseFailure}.
     *
     * @return how many resources were abandoned
     */
    int releaseAbandoned()
    {
        int abandoned = 0;
        releaseFailure = null;
        while (heldCount > 0)
        {
            final HeldResource resource = held[--heldCount];
            held[heldCount] = null;
            abandoned++;
            try
            {
                resource.releaseAbandoned(this);
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                if (releaseFailure == null)
                {
                    releaseFailure = ex;
                }
            }
        }
        return abandoned;
    }

    /** The first error a {@link HeldResource#releaseAbandoned} threw in the last {@link #releaseAbandoned()}. */
    Throwable releaseFailure;

    boolean holdsAnything()
    {
        return heldCount != 0;
    }

    @Override
    public StageRef<?> stage()
    {
        return runtime.stageRef(stage);
    }

    @Override
    public io.millrace.memory.BufferAllocator allocator()
    {
        if (inBlockingStage)
        {
            throw new IllegalStateException("stage " + runtime.stages()[stage].name() + " is a blocking stage: it runs off " +
                "the worker threads and cannot use a worker's allocator; build buffers in an inline stage before or after it");
        }
        final io.millrace.memory.BufferAllocator allocator = home.allocator();
        if (allocator == null)
        {
            throw new IllegalStateException("pipeline '" + runtime.name() + "' has no memory: call " +
                "PipelineBuilder.memory(SlabArena.builder().build()) to give its workers allocators");
        }
        return allocator;
    }

    @Override
    public WorkerTimers timers()
    {
        return onWorker("timers()").timers();
    }

    @Override
    public void atEndOfTurn(final EndOfTurnHook hook)
    {
        onWorker("atEndOfTurn()").atEndOfTurn(hook);
    }

    private Worker<R> onWorker(final String what)
    {
        if (inBlockingStage)
        {
            throw new IllegalStateException("stage '" + runtime.stageName(stage) + "' is a blocking stage: it runs off the " +
                "worker threads, so " + what + " is not available there; use it in an inline or partitioned stage");
        }
        return home;
    }

    @Override
    public int workerIndex()
    {
        return home.index();
    }

    @Override
    public int partition()
    {
        return partition;
    }

    @Override
    public boolean endOfBatch()
    {
        return home.endOfBatch();
    }

    @Override
    public String toString()
    {
        return "Exchange{stage=" + runtime.stageName(stage) + ", request=" + request + '}';
    }
}
