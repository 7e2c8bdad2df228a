package io.millrace.worker;

import io.millrace.SubmitResult;
import io.millrace.jfr.JfrSwitch;
import io.millrace.jfr.RequestRejectedEvent;
import io.millrace.stage.CancelToken;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where requests enter a pipeline: admission through the in-flight gate, the choice of entry
 * worker, and the hand-over, through that worker's ring or, from the worker's own thread, through
 * its local queue with no ring publish.
 *
 * <p>The entry key function is user code. It runs before admission, so that no user code sits between
 * taking an in-flight permit and handing the request over (the shutdown waits for exactly that
 * window, see {@link InFlightGate#tryAcquirePublishing()}). When it throws, the request is still
 * accepted and fails with that error on a worker, like any stage failure, so that its permit is
 * returned and the completion listener hears of it.
 *
 * <p>Threading: any thread submits. The only shared state is the gate (atomic), the round-robin
 * counter (atomic) and the rejection counters (atomics, off the accepted path).
 *
 * @param <R> the request type
 */
final class PipelineIntake<R>
{
    private final PipelineRuntime<R> runtime;
    private final InFlightGate gate;
    private final PipelineMetrics<R> metrics;
    private final int entry;
    private final int sampleMask;
    private final AtomicInteger nextWorker = new AtomicInteger();

    PipelineIntake(final PipelineRuntime<R> runtime, final InFlightGate gate, final PipelineMetrics<R> metrics, final int entry,
        final int sampleEvery)
    {
        this.runtime = runtime;
        this.gate = gate;
        this.metrics = metrics;
        this.entry = entry;
        this.sampleMask = sampleEvery - 1;
    }

    /**
     * Offers a request to the entry stage without waiting. From one of this pipeline's workers, a
     * request whose entry stage runs on that same worker enters its local queue: no ring publish.
     *
     * @param request the request
     * @param token   its cancel token, or null
     * @return accepted or why not
     */
    SubmitResult submit(final R request, final CancelToken token)
    {
        if (request == null)
        {
            throw new NullPointerException("submit(null): requests must not be null");
        }
        if (token != null && token.isBound())
        {
            throw new IllegalStateException("submit: this CancelToken is still bound to a request in flight; " +
                "use one token per in-flight request and reset() it after its completion");
        }
        // The entry key function is user code and may take any time: it runs before admission, so
        // that between taking a permit and handing the request to a worker no user code runs. Every
        // admitted submit is counted as publishing until it is in a ring or a local queue; the
        // shutdown waits for that count before it sweeps, so no admitted request lands in a ring
        // the sweep already drained, and a submit whose key outlives the shutdown's start finds
        // the gate closed and is refused.
        final Worker<R> caller = runtime.workerOf(Thread.currentThread());
        Worker<R> target;
        Throwable keyError = null;
        try
        {
            target = entryWorker(request, caller);
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            // The request is still accepted (if admitted) and fails with its error on a worker,
            // like any other failure, so that it is counted and the listener hears of it.
            keyError = ex;
            target = caller != null ? caller : anyWorker();
        }
        final int admitted = gate.tryAcquirePublishing();
        if (admitted != InFlightGate.OK)
        {
            if (admitted == InFlightGate.FULL)
            {
                metrics.countRejectedOverloaded();
                if (JfrSwitch.recorderUp() && RequestRejectedEvent.enabled())
                {
                    RequestRejectedEvent.emit(runtime.name(), "in-flight bound", gate.max());
                }
                return SubmitResult.REJECTED_OVERLOADED;
            }
            metrics.countRejectedNotRunning();
            return SubmitResult.REJECTED_NOT_RUNNING;
        }
        try
        {
            final long submittedAt = sampleMask == 0 || (ThreadLocalRandom.current().nextInt() & sampleMask) == 0 ?
                System.nanoTime() : 0;
            if (target == caller)
            {
                target.submitLocal(request, token, submittedAt, entry, keyError);
                return SubmitResult.ACCEPTED;
            }
            final int kind = keyError == null ? InboxEvent.SUBMIT : InboxEvent.FAIL_SUBMIT;
            if (!target.tryPublish(kind, request, null, entry, token, submittedAt, keyError))
            {
                gate.release();
                metrics.countRejectedOverloaded();
                if (JfrSwitch.recorderUp() && RequestRejectedEvent.enabled())
                {
                    RequestRejectedEvent.emit(runtime.name(), "ring full", gate.max());
                }
                return SubmitResult.REJECTED_OVERLOADED;
            }
            return SubmitResult.ACCEPTED;
        }
        finally
        {
            gate.published();
        }
    }

    private Worker<R> entryWorker(final R request, final Worker<R> caller)
    {
        final StageDef<R> first = runtime.stages()[entry];
        if (first.kind == StageDef.PARTITIONED)
        {
            return runtime.ownerOf(first.partitionOf(request));
        }
        if (first.kind == StageDef.PINNED)
        {
            final Worker<R> pinned = runtime.worker(first.key.applyAsInt(request));
            if (pinned != null)
            {
                return pinned; // out of range: any worker, whose run() fails the request with the reason
            }
        }
        return caller != null ? caller : anyWorker();
    }

    private Worker<R> anyWorker()
    {
        final Worker<R>[] workers = runtime.workers();
        return workers[(nextWorker.getAndIncrement() & Integer.MAX_VALUE) % workers.length];
    }
}
