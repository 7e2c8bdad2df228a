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
 * suspension state. One exchange is the {@link StageContext} of its request, so that costs no
 * allocation; contexts are pooled and reused request after request.
 *
 * <p>Each {@link #suspend()} hands out a small {@code ParkedSuspension} handle of its own, stamped with that
 * suspension: a handle outlives its suspension (a resumer that learns late that the request was
 * cancelled, aborted or failed, a second of two racing resumers), and a stale handle must find its
 * suspension gone, not resume whatever request parks in the recycled context later.
 *
 * <p>Ownership: exactly one thread carries an exchange at a time (see the package doc). The plain
 * fields are handed over by the ring or queue that moves it. Two fields are raced on, each by CAS:
 * <ul>
 *   <li>{@link #suspendState}: the carrier sets it in {@link #suspend()}; the resumer (through the
 *       suspension's handle), the carrier (withdrawing a misused suspension), a canceller
 *       ({@link #cancelParked}) or the shutdown sweep wins it back. It holds a stamp taken anew by
 *       every {@link #start} and every suspension, so a stale handle, or a cancel aimed at an earlier
 *       request of this pooled context (checked against {@link #generation}), fails its CAS.</li>
 *   <li>{@link #handoff}: a blocking stage's thread and the shutdown sweep decide with it which of
 *       them completes a request queued for or running in that stage.</li>
 * </ul>
 * {@link #inFlight} is plain: written by the carrying workers, read by the sweep only after it
 * joined them.
 *
 * @param <R> the request type
 */
public final class Exchange<R> implements StageContext, CancelToken.Target
{
    /**
     * Low bit of {@link #suspendState}; the rest is a stamp from {@link #stamps}, taken anew by every
     * {@link #start} and every {@link #suspend()}, so that no two suspensions of a context, in one
     * request or across requests, ever share a state value.
     */
    private static final long SUSPENDED = 1;
    private static final VarHandle SUSPEND_STATE;
    private static final VarHandle HANDOFF;
    private static final VarHandle GENERATION;

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
            GENERATION = lookup.findVarHandle(Exchange.class, "generation", long.class);
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
    /**
     * Bumped by every {@link #start}: which use of this pooled context a token belongs to. Written
     * (opaque) before the release store of {@link #suspendState} in {@link #start}, so that a
     * canceller that reads the state and then this sees the use the state belongs to or a later one.
     */
    long generation;
    /** Last stamp taken, by {@link #start} or {@link #suspend()}; carrier only. */
    private long stamps;
    /** The stamp of the suspension made in the current dispatch; carrier only. */
    private long suspendStamp;
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
        GENERATION.setOpaque(this, g);
        SUSPEND_STATE.setRelease(this, ++stamps << 1);
        HANDOFF.setRelease(this, HANDOFF_NONE);
        this.token = null;
        if (cancelToken != null)
        {
            cancelToken.bind(this, g); // throws, leaving token null, if the token is bound elsewhere
            this.token = cancelToken;
        }
    }

    /**
     * The request is complete: frees its cancel token before the completion listener hears of it,
     * so that the listener may {@link CancelToken#reset()} it and submit the next request with it.
     */
    void unbindToken()
    {
        final CancelToken t = token;
        if (t != null)
        {
            token = null;
            t.unbind();
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

    /** {@link #abandonHandoff()}: another thread took the request first. */
    static final int HANDOFF_TAKEN = -1;

    /**
     * Shutdown sweep: claims the request for completion, taking it away from a blocking stage
     * (queued or running) if it is in one.
     *
     * @return the state it was taken from ({@link #HANDOFF_NONE} when not in a blocking stage), or
     *         {@link #HANDOFF_TAKEN} if a stopped worker already claimed it
     */
    int abandonHandoff()
    {
        for (;;)
        {
            final int h = (int)HANDOFF.getVolatile(this);
            if (h == HANDOFF_ABANDONED)
            {
                return HANDOFF_TAKEN;
            }
            if (HANDOFF.compareAndSet(this, h, HANDOFF_ABANDONED))
            {
                return h;
            }
        }
    }

    /**
     * A worker that finds itself stopped when a stage returns: claims the request so that it, not
     * the shutdown sweep, completes it (the same CAS the sweep makes).
     *
     * @return {@code false} if the sweep already took it
     */
    boolean claimAfterStop()
    {
        return HANDOFF.compareAndSet(this, HANDOFF_NONE, HANDOFF_ABANDONED);
    }

    /**
     * Shutdown sweep: withdraws a parked request's suspension, so that a late resume throws instead
     * of reaching a dead worker.
     */
    void withdrawSuspension()
    {
        final long state = (long)SUSPEND_STATE.getVolatile(this);
        if ((state & SUSPENDED) != 0)
        {
            SUSPEND_STATE.compareAndSet(this, state, state & ~SUSPENDED);
        }
    }

    @Override
    public void cancelParked(final long contextUse)
    {
        final long state = (long)SUSPEND_STATE.getVolatile(this);
        // The state first, then the use: a use read after a state of a later use is that later use.
        // If the context is reused after these reads, the CAS below fails: every stamp is new.
        // The home too is read before the CAS (see wake).
        final Worker<R> to = home;
        if ((state & SUSPENDED) != 0 && (long)GENERATION.getOpaque(this) == contextUse &&
            SUSPEND_STATE.compareAndSet(this, state, state & ~SUSPENDED))
        {
            // We won the suspension as a resumer would: the request is ours to send home.
            resumeOutcome = null;
            // Only cancel() withdraws a parked request; a deadline is checked at stage boundaries.
            error = new RequestCancelledException(RequestCancelledException.Reason.CANCELLED, null);
            to.publishResume(this);
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
        final long s = suspendStamp;
        return SUSPEND_STATE.compareAndSet(this, (s << 1) | SUSPENDED, s << 1);
    }

    @Override
    public Suspension suspend()
    {
        if (inBlockingStage)
        {
            throw new IllegalStateException("stage '" + runtime.stageName(stage) +
                "' is a blocking stage: block its thread instead of suspending the request");
        }
        if (suspendedInThisDispatch || ((long)SUSPEND_STATE.getVolatile(this) & SUSPENDED) != 0)
        {
            throw new IllegalStateException("request is already suspended in stage '" + runtime.stageName(stage) +
                "': call suspend() once per dispatch");
        }
        suspendedInThisDispatch = true;
        final long s = ++stamps;
        suspendStamp = s;
        // The handle is the one allocation of a suspension: it may outlive it, and must then find it gone.
        final ParkedSuspension handle = new ParkedSuspension(this, s, stage);
        SUSPEND_STATE.setVolatile(this, (s << 1) | SUSPENDED);
        final CancelToken t = token;
        if (t != null && t.isCancelled())
        {
            cancelParked(generation); // cancelled before it parked: withdraw at once rather than wait for a resumer
        }
        return handle;
    }

    /**
     * Resumes the suspension stamped {@code stamp}, if it is still the one parked here.
     *
     * @param first  a hand-off: from the home worker's own thread, run before its other queued work
     * @throws IllegalStateException if that suspension was already resumed, failed or withdrawn
     */
    void wake(final long stamp, final int parkedStage, final Outcome outcome, final Throwable cause, final boolean first)
    {
        // Read before the CAS: the home of a parked request does not change, but a shutdown sweep that
        // completes the request right after our CAS clears it. Read before, it is the home (a null here
        // means the sweep withdrew the suspension first, and the CAS fails).
        final Worker<R> to = home;
        if (!SUSPEND_STATE.compareAndSet(this, (stamp << 1) | SUSPENDED, stamp << 1))
        {
            throw new IllegalStateException("suspension of a request in stage '" + runtime.stageName(parkedStage) +
                "' was already resumed or failed, or withdrawn because the request was cancelled, failed or aborted: " +
                "resume each suspension exactly once");
        }
        resumeOutcome = outcome;
        error = cause;
        queuedAt = System.nanoTime();
        to.publishResume(this, first);
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

    Object runtimeToken()
    {
        return runtime.token();
    }

    String stageNameOf(final int stageIndex)
    {
        return runtime.stageName(stageIndex);
    }

    @Override
    public String toString()
    {
        return "Exchange{stage=" + runtime.stageName(stage) + ", request=" + request + '}';
    }
}
