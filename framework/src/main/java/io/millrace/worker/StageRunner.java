package io.millrace.worker;

import io.millrace.jfr.JfrSwitch;
import io.millrace.jfr.StageDispatchEvent;
import io.millrace.stage.CancelToken;
import io.millrace.stage.Outcome;
import io.millrace.stage.RequestCancelledException;

/**
 * Runs a request through the stages on its worker: inline stage after inline stage until it
 * completes, parks, or must cross to another thread, which costs exactly one publish into the
 * other worker's inbox.
 *
 * <p>Every call into user code here (handlers, key functions) is guarded: a {@link Throwable}
 * fails that request, is counted against the stage and logged rate-limited; only a
 * {@link Fatal fatal} error propagates, to end the worker. Each stage boundary checks the request's
 * cancel token.
 *
 * <p>Threading: one per {@link Worker}, used only by that worker's thread. The lane and counters
 * it writes are the worker's, read by metrics from other threads through their own protocols.
 *
 * @param <R> the request type
 */
final class StageRunner<R>
{
    private final Worker<R> worker;
    private final PipelineRuntime<R> runtime;
    private final StageDef<R>[] stages;
    private final Lane lane;
    private final WorkerCounters counters;
    private final long sampleMask;
    private long runs;
    /**
     * The clock as last read at the end of a timed dispatch, and whether it may stand for "now" at
     * the start of the next one: true only while the worker goes straight from one event of a batch
     * to the next. Chaining the reads this way costs one clock read per dispatch instead of two (a
     * read is tens of nanoseconds on a virtual machine's clock); the next stage's service time then
     * includes the few nanoseconds the runtime takes to reach it, which are part of its cost anyway.
     */
    private long lastNow;
    private boolean lastNowFresh;

    /**
     * @param worker      the worker whose thread runs the requests
     * @param runtime     the pipeline
     * @param lane        the worker's per-stage counters and service times
     * @param counters    the worker's counters
     * @param sampleEvery time one request in this many (a power of two)
     */
    StageRunner(final Worker<R> worker, final PipelineRuntime<R> runtime, final Lane lane, final WorkerCounters counters,
        final int sampleEvery)
    {
        this.worker = worker;
        this.runtime = runtime;
        this.stages = runtime.stages();
        this.lane = lane;
        this.counters = counters;
        this.sampleMask = sampleEvery - 1;
    }

    /**
     * Runs {@code exchange} from {@code stageIndex} on, inline, until it completes, parks or leaves
     * this thread. The hot path: no allocation, no lock, no logging.
     */
    void run(final Exchange<R> exchange, final int stageIndex)
    {
        int s = stageIndex;
        // One request in every sampleMask + 1 is timed, stage by stage; the others are only counted.
        final boolean timed = (++runs & sampleMask) == 0;
        long start = timed ? (lastNowFresh ? lastNow : System.nanoTime()) : 0L;
        lastNowFresh = false;
        final long queuedAt = exchange.queuedAt;
        if (queuedAt != 0)
        {
            // Time since it was published into a ring (or submitted), charged to the stage it waited for.
            exchange.queuedAt = 0;
            if (timed && stages[s].kind != StageDef.BLOCKING)
            {
                lane.recordQueueWait(s, start - queuedAt);
            }
        }
        for (;;)
        {
            if (exchange.token != null && stopped(exchange, s))
            {
                return;
            }
            final StageDef<R> def = stages[s];
            int partition = -1;
            if (def.kind == StageDef.PARTITIONED)
            {
                try
                {
                    partition = def.partitionOf(exchange.request);
                }
                catch (final Throwable ex)
                {
                    failAtKey(exchange, s, ex);
                    return;
                }
                final Worker<R> owner = runtime.ownerOf(partition);
                if (owner != worker)
                {
                    hop(owner, exchange, s, timed ? start : 0);
                    return;
                }
            }
            else if (def.kind == StageDef.PINNED)
            {
                final int target;
                try
                {
                    target = def.key.applyAsInt(exchange.request);
                }
                catch (final Throwable ex)
                {
                    failAtKey(exchange, s, ex);
                    return;
                }
                if (target != worker.index())
                {
                    final Worker<R> owner = runtime.worker(target);
                    if (owner == null)
                    {
                        failAtKey(exchange, s, new IllegalArgumentException("stage '" + def.name + "' is pinned to worker " +
                            target + " but the pipeline has workers 0 to " + (runtime.workerCount() - 1)));
                        return;
                    }
                    hop(owner, exchange, s, timed ? start : 0);
                    return;
                }
            }
            else if (def.kind == StageDef.BLOCKING)
            {
                runtime.blockingPool(s).submit(exchange, s, worker);
                return;
            }

            exchange.beginDispatch(s, partition);
            // Null unless a JFR recording enables the event: a load and a branch, no class loaded, no allocation.
            final StageDispatchEvent slow = JfrSwitch.recorderUp() ? StageDispatchEvent.beginIfEnabled() : null;
            final Outcome outcome;
            try
            {
                outcome = def.handler.handle(exchange.request, exchange);
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                if (slow != null)
                {
                    finishDispatch(slow, def, partition, true);
                }
                if (!worker.isRunning())
                {
                    abortAfterStop(exchange, s);
                    return;
                }
                lane.recordError(s, timed ? System.nanoTime() - start : Lane.UNTIMED);
                if (exchange.suspendedInThisDispatch && !exchange.cancelSuspension())
                {
                    // A resumer already took it: the request continues from the resume event.
                    runtime.stageErrorLog(s).error("threw after its suspension was resumed; the exception is ignored", ex);
                    return;
                }
                failStage(exchange, s, ex);
                return;
            }
            if (slow != null)
            {
                finishDispatch(slow, def, partition, false);
            }
            if (!worker.isRunning())
            {
                abortAfterStop(exchange, s);
                return;
            }
            if (timed)
            {
                final long now = System.nanoTime();
                lane.record(s, now - start);
                start = now;
                lastNow = now;
                lastNowFresh = true;
            }
            else
            {
                lane.record(s, Lane.UNTIMED);
            }

            final int next = runtime.nextStage(exchange, def, outcome, lane);
            if (next >= 0)
            {
                s = next;
            }
            else
            {
                if (next == PipelineRuntime.COMPLETE)
                {
                    complete(exchange);
                }
                else
                {
                    lane.countParked(s);
                }
                return;
            }
        }
    }

    /** JFR's {@code io.millrace.StageDispatch}, begun before the call; out of line to keep {@link #run} small. */
    private void finishDispatch(final StageDispatchEvent slow, final StageDef<R> def, final int partition, final boolean threw)
    {
        slow.finish(runtime.name(), def.name, def.placementText, worker.index(), partition, threw);
    }

    /**
     * The worker was stopped while this stage ran (a shutdown past its deadline found it inside
     * user code). It goes no further: the request is completed here with an abort, unless the
     * shutdown sweep claimed it first, and nothing else is touched. One volatile load per dispatch
     * decides this; the CAS happens only after a stop.
     */
    private void abortAfterStop(final Exchange<R> exchange, final int stage)
    {
        if (!exchange.claimAfterStop())
        {
            return; // the sweep completed it
        }
        if (exchange.suspendedInThisDispatch)
        {
            exchange.cancelSuspension(); // a late resume now throws; one already on its way is never drained
        }
        runtime.countAbortedByStoppedWorker();
        // A fatal error stops the workers too: then the abort carries it, as the sweep's do.
        final Throwable fatal = runtime.failure();
        exchange.error = new io.millrace.PipelineAbortedException(fatal != null
            ? "pipeline '" + runtime.name() + "' failed with a fatal error while stage '" + runtime.stageName(stage) +
                "' ran for the request"
            : "pipeline '" + runtime.name() + "' shut down while stage '" + runtime.stageName(stage) +
                "' ran for the request, past the deadline", fatal);
        complete(exchange);
    }

    /**
     * A stage boundary: completes the request if its token was cancelled or its deadline passed.
     *
     * @return {@code true} if the request was completed here
     */
    private boolean stopped(final Exchange<R> exchange, final int stage)
    {
        // A deadline is compared with a fresh clock read, never with the chained one: user code may
        // have run since (a completion listener), and a stage must not run past its deadline.
        final Throwable reason = exchange.stopReason(stage, 0);
        if (reason == null)
        {
            return false;
        }
        exchange.error = reason;
        complete(exchange);
        return true;
    }

    /** The worker starts a turn, or comes back from anything but dispatching: the last clock read is stale. */
    void clockStale()
    {
        lastNowFresh = false;
    }

    void resume(final Exchange<R> exchange)
    {
        exchange.home = worker;
        final Outcome outcome = exchange.resumeOutcome;
        exchange.resumeOutcome = null;
        if (outcome == null || outcome.kind() == Outcome.Kind.DONE)
        {
            complete(exchange); // carries exchange.error, if any
        }
        else
        {
            final int target = outcome.target().index();
            if (exchange.suspendedInThisDispatch && target == exchange.stage)
            {
                lane.countRedispatch(target); // the same request, dispatched again where it parked
            }
            run(exchange, target);
        }
    }

    /**
     * A key function (partition or worker key) threw: fail this request, count it against the stage.
     */
    void failAtKey(final Exchange<R> exchange, final int stage, final Throwable error)
    {
        Fatal.rethrowIfFatal(error);
        lane.recordError(stage, Lane.UNTIMED);
        exchange.stage = stage;
        runtime.stageErrorLog(stage).error("key function threw", error);
        exchange.error = error;
        complete(exchange);
    }

    private void failStage(final Exchange<R> exchange, final int stage, final Throwable error)
    {
        runtime.stageErrorLog(stage).error("threw", error);
        exchange.error = error;
        complete(exchange);
    }

    void complete(final Exchange<R> exchange)
    {
        if (exchange.holdsAnything())
        {
            runtime.releaseHeld(exchange, lane);
        }
        final Throwable error = exchange.error;
        final long submittedAt = exchange.submittedAt;
        if (submittedAt != 0)
        {
            lane.recordEndToEnd((lastNowFresh ? lastNow : System.nanoTime()) - submittedAt);
        }
        final CancelToken token = exchange.token;
        if (token != null)
        {
            // Unbound before the listener runs, so that the listener (or whoever it wakes) may reset
            // and reuse the token at once.
            exchange.token = null;
            token.unbind();
        }
        final Throwable fatal = runtime.notifyComplete(exchange.request, error);
        lastNowFresh = false; // user code ran: the chained clock no longer stands for now
        if (error == null)
        {
            counters.add(WorkerCounters.COMPLETED, 1);
        }
        else
        {
            counters.add(WorkerCounters.FAILED, 1);
            if (error instanceof RequestCancelledException)
            {
                counters.add(WorkerCounters.CANCELLED, 1);
            }
        }
        ExchangePool.recycle(exchange);
        runtime.releaseInFlight();
        if (fatal != null)
        {
            throw (Error)fatal; // the request is complete; now the worker fails the pipeline
        }
    }

    private void hop(final Worker<R> owner, final Exchange<R> exchange, final int stage, final long now)
    {
        counters.add(WorkerCounters.PUBLISHES_SENT, 1);
        exchange.queuedAt = now;
        if (!owner.tryPublish(InboxEvent.CONTINUE, null, exchange, stage, null, 0, null))
        {
            // Impossible while maxInFlight <= ringSize / 2; fail loudly rather than lose the request.
            exchange.error = new IllegalStateException("inbox of worker " + owner.index() +
                " was full on an internal hop: the in-flight bound was broken; please report this");
            complete(exchange);
        }
    }
}
