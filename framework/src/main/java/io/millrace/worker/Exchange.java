package io.millrace.worker;

import io.millrace.stage.HeldResource;
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
public final class Exchange<R> implements StageContext, Suspension
{
    private static final int NOT_SUSPENDED = 0;
    private static final int SUSPENDED = 1;
    private static final VarHandle SUSPEND_STATE;

    static
    {
        try
        {
            SUSPEND_STATE = MethodHandles.lookup().findVarHandle(Exchange.class, "suspendState", int.class);
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
    /** The pool this context came from and goes back to; set on every acquire. */
    io.millrace.memory.LookasidePool<Exchange<R>> origin;
    private final HeldResource[] held = new HeldResource[MAX_HELD];
    private int heldCount;

    @SuppressWarnings("unused")
    private volatile int suspendState;

    Exchange(final PipelineRuntime<R> runtime)
    {
        this.runtime = runtime;
    }

    void start(final R request, final Worker<R> home)
    {
        this.request = request;
        this.home = home;
        this.partition = -1;
        this.error = null;
        this.resumeOutcome = null;
    }

    void clear()
    {
        request = null;
        error = null;
        resumeOutcome = null;
        home = null;
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
        return SUSPEND_STATE.compareAndSet(this, SUSPENDED, NOT_SUSPENDED);
    }

    @Override
    public Suspension suspend()
    {
        if (inBlockingStage)
        {
            throw new IllegalStateException("stage '" + runtime.stageName(stage) +
                "' is a blocking stage: block its thread instead of suspending the request");
        }
        if (suspendedInThisDispatch || (int)SUSPEND_STATE.getVolatile(this) != NOT_SUSPENDED)
        {
            throw new IllegalStateException("request is already suspended in stage '" + runtime.stageName(stage) +
                "': call suspend() once per dispatch");
        }
        suspendedInThisDispatch = true;
        SUSPEND_STATE.setVolatile(this, SUSPENDED);
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
        if (!SUSPEND_STATE.compareAndSet(this, SUSPENDED, NOT_SUSPENDED))
        {
            throw new IllegalStateException("suspension of a request in stage '" + runtime.stageName(stage) +
                "' was already resumed or failed (or never suspended): resume each suspension exactly once");
        }
        resumeOutcome = outcome;
        error = cause;
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
     * Releases whatever the request still holds at completion.
     *
     * @return how many resources were abandoned
     */
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
