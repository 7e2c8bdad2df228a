package io.millrace.worker;

import io.millrace.CompletionListener;
import io.millrace.FatalErrorHandler;
import io.millrace.Idle;
import io.millrace.PipelineAbortedException;
import io.millrace.ShutdownReport;
import io.millrace.SubmitResult;
import io.millrace.memory.SlabArena;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.stage.CancelToken;
import io.millrace.stage.Outcome;
import io.millrace.stage.RequestCancelledException;
import io.millrace.stage.StageRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Everything a running pipeline owns: its stages, workers, blocking pools, in-flight gate and
 * metrics. Built once by the pipeline builder; immutable wiring after construction. Starting,
 * stopping and failing is {@link PipelineLifecycle}'s job, assembling metrics {@link PipelineMetrics}'.
 *
 * @param <R> the request type
 */
public final class PipelineRuntime<R>
{
    /** {@link #nextStage} result: complete the request now. */
    static final int COMPLETE = -1;
    /** {@link #nextStage} result: the request left this thread (parked or already resumed). */
    static final int LEFT = -2;

    private static final Logger LOG = LoggerFactory.getLogger(PipelineRuntime.class);
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Object token;
    private final String name;
    private final StageDef<R>[] stages;
    private final Worker<R>[] workers;
    private final Worker<R>[] ownerByPartition;
    private final BlockingStagePool<R>[] pools;
    private final InFlightGate gate;
    private final CompletionListener<? super R> listener;
    private final RateLimitedLog[] stageLogs;
    private final RateLimitedLog listenerLog;
    private final RateLimitedLog internalLog;
    private final RateLimitedLog callbackLog;
    /** Every request context alive, for the shutdown sweep; added to and removed from only as pools grow and shrink. */
    private final Set<Exchange<R>> contexts = ConcurrentHashMap.newKeySet();
    /** The first fatal error, once the pipeline has failed. */
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final PipelineIntake<R> intake;
    private final AtomicLong abortedByStoppedWorkers = new AtomicLong();
    private final PipelineLifecycle<R> lifecycle;
    private final PipelineMetrics<R> metrics;

    /**
     * @param token      the builder's identity, which stage references carry
     * @param name       pipeline name, prefix of thread names
     * @param stages     compiled stages, by index
     * @param entry      index of the entry stage
     * @param workerCount number of workers
     * @param ringSize   slots per inbox ring, a power of two
     * @param maxInFlight in-flight bound, at most {@code ringSize / 2}
     * @param idle       idle policy
     * @param sampleEvery time one request in this many (a power of two); the rest are only counted
     * @param listener   completion listener
     * @param fatalHandler told when a pipeline thread hits a fatal error, or null
     */
    @SuppressWarnings("unchecked")
    public PipelineRuntime(final Object token, final String name, final StageDef<R>[] stages, final int entry,
        final int workerCount, final int ringSize, final int maxInFlight, final Idle idle, final int sampleEvery,
        final CompletionListener<? super R> listener, final FatalErrorHandler fatalHandler)
    {
        this.callbackLog = new RateLimitedLog(LOG, "pipeline '" + name + "'", LOG_INTERVAL_NANOS);
        this.token = token;
        this.name = name;
        this.stages = stages;
        this.listener = listener;
        this.gate = new InFlightGate(maxInFlight);
        this.internalLog = new RateLimitedLog(LOG, "pipeline '" + name + "' runtime", LOG_INTERVAL_NANOS);

        final boolean[] onWorkers = new boolean[stages.length];
        int maxPartitions = 1;
        for (final StageDef<R> stage : stages)
        {
            onWorkers[stage.index] = stage.kind != StageDef.BLOCKING;
            maxPartitions = Math.max(maxPartitions, stage.partitions());
        }

        this.workers = new Worker[workerCount];
        for (int i = 0; i < workerCount; i++)
        {
            workers[i] = new Worker<>(i, this, ringSize, idle.newStrategy(), idle.emptyTurnsBeforePark(), onWorkers,
                maxInFlight, sampleEvery, name + "-worker-" + i);
        }
        this.ownerByPartition = new Worker[maxPartitions];
        for (int p = 0; p < maxPartitions; p++)
        {
            ownerByPartition[p] = workers[p % workerCount];
        }

        this.pools = new BlockingStagePool[stages.length];
        this.stageLogs = new RateLimitedLog[stages.length];
        for (final StageDef<R> stage : stages)
        {
            if (stage.kind == StageDef.BLOCKING)
            {
                pools[stage.index] = new BlockingStagePool<>(this, stage, maxInFlight, stages.length,
                    name + "-blocking-" + stage.name + "-");
            }
            stageLogs[stage.index] = new RateLimitedLog(LOG, "stage '" + stage.name + "'", LOG_INTERVAL_NANOS);
        }
        this.lifecycle = new PipelineLifecycle<>(this, new PipelineThreads<>(name, workers, pools), gate, failure, fatalHandler);
        this.metrics = new PipelineMetrics<>(stages, workers, pools, gate, ringSize, failure);
        this.intake = new PipelineIntake<>(this, gate, metrics, entry, sampleEvery);
        this.listenerLog = new RateLimitedLog(LOG, "completion listener of pipeline '" + name + "'", LOG_INTERVAL_NANOS);
    }

    // ---------------------------------------------------------------- lifecycle (see PipelineLifecycle)

    /**
     * Starts the workers and blocking pools and opens intake.
     *
     * @param preallocatePerWorker request contexts to create on each worker before intake opens
     * @param arena                slabs for the workers' allocators, or null
     * @param ioProvider           I/O the workers poll, or null
     */
    public void start(final int preallocatePerWorker, final SlabArena arena, final WorkerIoProvider ioProvider)
    {
        lifecycle.start(preallocatePerWorker, arena, ioProvider);
    }

    /**
     * Stops intake, waits for in-flight requests until the deadline, then stops every thread and
     * completes whatever is still in flight with a {@link io.millrace.PipelineAbortedException}.
     *
     * @param deadline how long to wait in all
     * @return what happened; the same report on every later call
     * @throws IllegalStateException if called on one of this pipeline's own threads
     */
    public ShutdownReport shutdown(final Duration deadline)
    {
        return lifecycle.shutdown(deadline);
    }

    /**
     * @param deadline how long to wait in all
     * @return the report, when the shutdown, run on a thread of its own, is done
     */
    public CompletableFuture<ShutdownReport> shutdownAsync(final Duration deadline)
    {
        return lifecycle.shutdownAsync(deadline);
    }

    /**
     * @return the fatal error that failed the pipeline, or null while it is healthy
     */
    public Throwable failure()
    {
        return failure.get();
    }

    void fail(final Throwable error, final Thread where)
    {
        lifecycle.fail(error, where);
    }

    boolean isStopped()
    {
        return lifecycle.isStopped();
    }

    /** Shutdown: the live contexts, for the sweep. */
    Set<Exchange<R>> contexts()
    {
        return contexts;
    }

    Worker<R>[] workers()
    {
        return workers;
    }

    BlockingStagePool<R>[] pools()
    {
        return pools;
    }

    // ---------------------------------------------------------------- intake (see PipelineIntake)

    /**
     * Offers a request to the entry stage without waiting.
     *
     * @param request the request
     * @param token   its cancel token, or null
     * @return accepted or why not
     */
    public SubmitResult submit(final R request, final CancelToken token)
    {
        return intake.submit(request, token);
    }

    // ---------------------------------------------------------------- used by workers and pools

    /**
     * Validates a stage's outcome and turns it into the next stage index, {@link #COMPLETE} or
     * {@link #LEFT}. A misuse completes the request with an {@link IllegalStateException} naming the
     * stage and the remedy.
     */
    int nextStage(final Exchange<R> exchange, final StageDef<R> stage, final Outcome outcome, final Lane lane)
    {
        if (exchange.suspendedInThisDispatch)
        {
            if (outcome != null && outcome.kind() == Outcome.Kind.BLOCKED)
            {
                return LEFT;
            }
            if (!exchange.cancelSuspension())
            {
                lane.recordMisuse(stage.index);
                stageLogs[stage.index].error("returned " + outcome + " after suspend(), but the suspension was " +
                    "already resumed; the resume wins, return Outcome.blocked() after suspending",
                    new IllegalStateException("stage '" + stage.name + "' returned " + outcome + " after suspend()"));
                return LEFT;
            }
            return misuse(exchange, stage, lane, "returned " + outcome +
                " after calling suspend(); a stage that suspends must return Outcome.blocked()");
        }
        if (outcome == null)
        {
            return misuse(exchange, stage, lane, "returned null; return Outcome.next(stage), Outcome.done() or Outcome.blocked()");
        }
        return switch (outcome.kind())
        {
            case NEXT -> outcome.target().belongsTo(token) ? outcome.target().index() :
                misuse(exchange, stage, lane, "continued at " + outcome.target() + ", which belongs to another pipeline");
            case DONE -> COMPLETE;
            case BLOCKED -> misuse(exchange, stage, lane,
                "returned blocked() without calling suspend() first; nobody could ever resume the request");
        };
    }

    private int misuse(final Exchange<R> exchange, final StageDef<R> stage, final Lane lane, final String what)
    {
        lane.recordMisuse(stage.index);
        final IllegalStateException error = new IllegalStateException("stage '" + stage.name + "' " + what);
        stageLogs[stage.index].error("misused the stage API", error);
        exchange.error = error;
        return COMPLETE;
    }

    /**
     * Calls the completion listener inside the guard.
     *
     * @return a fatal error the listener threw, for the caller to rethrow once the request's
     *         bookkeeping is done (so that the sweep cannot complete it a second time); else null
     */
    Throwable notifyComplete(final R request, final Throwable error)
    {
        try
        {
            listener.onComplete(request, error);
            return null;
        }
        catch (final Throwable ex)
        {
            if (Fatal.isFatal(ex))
            {
                return ex;
            }
            listenerLog.error("threw", ex);
            return null;
        }
    }

    void releaseInFlight()
    {
        gate.release();
    }

    long inFlightCount()
    {
        return gate.inFlight();
    }

    /** A stopped worker completed the request it was inside of with an abort (see StageRunner). */
    void countAbortedByStoppedWorker()
    {
        abortedByStoppedWorkers.incrementAndGet();
    }

    long abortedByStoppedWorkers()
    {
        return abortedByStoppedWorkers.get();
    }

    void internalError(final Throwable error)
    {
        internalLog.contained("hit an internal error", error);
    }

    RateLimitedLog callbackLog()
    {
        return callbackLog;
    }

    Exchange<R> register(final Exchange<R> context)
    {
        contexts.add(context);
        return context;
    }

    void forget(final Exchange<R> context)
    {
        contexts.remove(context);
    }

    Worker<R> ownerOf(final int partition)
    {
        return ownerByPartition[partition];
    }

    BlockingStagePool<R> blockingPool(final int stage)
    {
        return pools[stage];
    }

    RateLimitedLog stageErrorLog(final int stage)
    {
        return stageLogs[stage];
    }

    Worker<R> workerOf(final Thread thread)
    {
        for (final Worker<R> worker : workers)
        {
            if (worker.thread() == thread)
            {
                return worker;
            }
        }
        return null;
    }

    /**
     * @return the worker with this index, or null if out of range
     */
    Worker<R> worker(final int workerIndex)
    {
        return workerIndex >= 0 && workerIndex < workers.length ? workers[workerIndex] : null;
    }

    StageDef<R>[] stages()
    {
        return stages;
    }

    String stageName(final int stage)
    {
        return stage >= 0 && stage < stages.length ? stages[stage].name : "(none)";
    }

    StageRef<R> stageRef(final int stage)
    {
        return stage >= 0 && stage < stages.length ? stages[stage].ref : null;
    }

    /**
     * Called by the completing thread for a request that still holds resources: releases them. For
     * a request that completes normally that is a misuse, reported against the stage that completed
     * it; for a cancelled or aborted one it is the expected clean-up. A release that throws fails
     * the request with that error.
     */
    void releaseHeld(final Exchange<R> exchange, final Lane lane)
    {
        final int stage = exchange.stage;
        final int count = exchange.releaseAbandoned();
        final Throwable error = exchange.error;
        final Throwable releaseFailure = exchange.releaseFailure;
        exchange.releaseFailure = null;
        final boolean expected = error instanceof RequestCancelledException || error instanceof PipelineAbortedException;
        if (stage < 0 || (expected && releaseFailure == null))
        {
            return;
        }
        if (lane != null)
        {
            lane.recordMisuse(stage);
        }
        if (releaseFailure != null)
        {
            stageLogs[stage].error("completed a request whose held resource threw when released for it", releaseFailure);
            if (error == null)
            {
                exchange.error = releaseFailure;
            }
            return;
        }
        stageLogs[stage].error("completed a request that still held " + count + " resource(s); they were released for it",
            new IllegalStateException("stage '" + stages[stage].name + "' completed a request holding " + count +
                " resource(s): give each back (and call ctx.unhold) before returning Outcome.done()"));
    }

    /** Shutdown sweep: the listener, guarded, and the in-flight permit. */
    void completeAborted(final R request, final Throwable error)
    {
        final Throwable fatal = notifyComplete(request, error);
        gate.release();
        if (fatal != null)
        {
            // Already shutting down: record it (fail() only logs once the pipeline has failed).
            fail(fatal, Thread.currentThread());
        }
    }

    Object token()
    {
        return token;
    }

    /**
     * @return the number of workers
     */
    public int workerCount()
    {
        return workers.length;
    }

    /**
     * @return the pipeline's name
     */
    public String name()
    {
        return name;
    }

    // ---------------------------------------------------------------- metrics

    /**
     * @return a snapshot of every counter; safe from any thread, allocation on the caller only
     */
    public MetricsSnapshot metrics()
    {
        return metrics.snapshot();
    }
}
