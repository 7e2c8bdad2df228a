package io.millrace.worker;

import io.millrace.jfr.JfrSwitch;
import io.millrace.jfr.StageDispatchEvent;
import io.millrace.stage.Outcome;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

import java.util.concurrent.Semaphore;

/**
 * The threads of one {@code blocking(n)} stage.
 *
 * <p>Workers hand requests over through a bounded lock-free queue and a counting semaphore of
 * pending requests; exactly {@code n} threads take them, so no more than {@code n} threads are ever
 * active in the stage: the counting semaphore of active threads, with the threads themselves as the
 * permits. When the stage returns, the request goes back to the worker it came from through that
 * worker's inbox, with the stage's outcome or error inside.
 *
 * <p>The hand-off invariant: a permit is released only after its request's {@code offer} returned,
 * so a thread holding a permit is owed exactly one request. Agrona's
 * {@link ManyToManyConcurrentArrayQueue#poll()} may still return null for a moment: another
 * producer's offer, claimed earlier in the queue, may not be published yet, and the queue hands
 * out elements in claim order. The taker therefore never gives its permit up: it polls again until
 * the request it is owed appears (the lagging producer is between two instructions of its offer).
 * Dropping the permit there, as this class once did, stranded the last requests of a burst until
 * unrelated traffic came by.
 *
 * <p>Each request's hand-off state ({@link Exchange#tryStartBlocking}, {@link Exchange#tryFinishBlocking})
 * arbitrates between this stage's thread and a shutdown that gives up on it: whichever wins the CAS
 * completes the request, the other drops it. A request cancelled while queued is skipped: it goes
 * home with its cancellation error and the stage never runs for it.
 *
 * <p>The queue holds at most the pipeline's in-flight bound, so an offer from a worker never fails
 * while that bound holds.
 *
 * @param <R> the request type
 */
final class BlockingStagePool<R>
{
    private final PipelineRuntime<R> runtime;
    private final StageDef<R> stage;
    private final ManyToManyConcurrentArrayQueue<Exchange<R>> queue;
    private final Semaphore pending = new Semaphore(0);
    private final Thread[] threads;
    private final Lane[] lanes;
    private volatile boolean running;

    BlockingStagePool(final PipelineRuntime<R> runtime, final StageDef<R> stage, final int capacity,
        final int stageCount, final String threadNamePrefix)
    {
        this.runtime = runtime;
        this.stage = stage;
        // Twice the in-flight bound: Agrona's offer also fails while a poll of the slot it wants is
        // half done, which only a queue close to full can meet; with this slack it cannot.
        this.queue = new ManyToManyConcurrentArrayQueue<>(Math.max(4, capacity * 2));
        this.threads = new Thread[stage.blockingThreads];
        this.lanes = new Lane[stage.blockingThreads];
        final boolean[] runs = new boolean[stageCount];
        runs[stage.index] = true;
        for (int i = 0; i < threads.length; i++)
        {
            final Lane lane = new Lane(stageCount, runs);
            lanes[i] = lane;
            threads[i] = new Thread(() -> loop(lane), threadNamePrefix + i);
            threads[i].setDaemon(true);
        }
    }

    Thread[] threads()
    {
        return threads;
    }

    Lane[] lanes()
    {
        return lanes;
    }

    void start()
    {
        running = true;
        for (final Thread thread : threads)
        {
            thread.start();
        }
    }

    void stop()
    {
        running = false;
        for (final Thread thread : threads)
        {
            thread.interrupt();
        }
    }

    /** Called by the worker carrying the request. */
    void submit(final Exchange<R> exchange, final int stageIndex, final Worker<R> from)
    {
        exchange.inBlockingStage = true;
        exchange.beginDispatch(stageIndex, -1);
        exchange.queuedAt = System.nanoTime();
        exchange.markQueued();
        if (!queue.offer(exchange))
        {
            exchange.tryStartBlocking();
            exchange.tryFinishBlocking();
            exchange.inBlockingStage = false;
            exchange.error = new IllegalStateException("queue of blocking stage '" + stage.name +
                "' was full: the in-flight bound was broken; please report this");
            from.complete(exchange);
            return;
        }
        pending.release();
    }

    private void loop(final Lane lane)
    {
        try
        {
            while (running)
            {
                try
                {
                    pending.acquire();
                }
                catch (final InterruptedException ex)
                {
                    continue; // re-check running
                }
                final Exchange<R> exchange = take();
                if (exchange == null)
                {
                    return; // stopping while owed a request: the shutdown sweep completes it
                }
                if (exchange.tryStartBlocking())
                {
                    dispatch(exchange, lane);
                }
            }
        }
        catch (final Throwable ex)
        {
            // dispatch contains everything that is not fatal
            runtime.fail(ex, Thread.currentThread());
        }
    }

    /**
     * Takes the request this thread's permit is owed, waiting out a producer whose offer is claimed
     * but not yet published.
     *
     * @return the request, or null only if the pool is stopping
     */
    private Exchange<R> take()
    {
        int spins = 0;
        for (;;)
        {
            final Exchange<R> exchange = queue.poll();
            if (exchange != null)
            {
                return exchange;
            }
            if (!running && runtime.isStopped())
            {
                return null;
            }
            if (++spins < 100)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
        }
    }

    private void dispatch(final Exchange<R> exchange, final Lane lane)
    {
        Outcome outcome = null;
        Throwable error = exchange.stopReason(stage.index, 0);
        long end = 0;
        if (error == null)
        {
            final long start = System.nanoTime();
            final long queuedAt = exchange.queuedAt;
            final StageDispatchEvent slow = JfrSwitch.recorderUp() ? StageDispatchEvent.beginIfEnabled() : null; // JFR
            try
            {
                outcome = stage.handler.handle(exchange.request, exchange);
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                error = ex;
            }
            end = System.nanoTime();
            if (slow != null)
            {
                slow.finish(runtime.name(), stage.name, stage.placementText, -1, -1, error != null);
            }
            final long elapsed = end - start;
            // The lane stays idle while the stage runs, so that a metrics reader never waits for a
            // long blocking call; it is ours only while we record.
            lane.exitIdle();
            lane.recordQueueWait(stage.index, start - queuedAt);
            if (error == null)
            {
                lane.record(stage.index, elapsed);
                error = misuse(outcome);
                if (error != null)
                {
                    lane.recordMisuse(stage.index);
                }
            }
            else
            {
                lane.recordError(stage.index, elapsed);
            }
            lane.enterIdle();
            if (error != null)
            {
                runtime.stageErrorLog(stage.index).error(error instanceof IllegalStateException ? "misused the stage API" : "threw", error);
                outcome = null;
            }
            // An interrupt aimed at a stuck call (shutdown) must not leak into the next request.
            Thread.interrupted();
        }
        exchange.inBlockingStage = false;
        exchange.resumeOutcome = outcome;
        exchange.error = error;
        exchange.queuedAt = end; // ring residence on the way home
        // Read home before the CAS: once we win it, a shutdown sweep may complete and clear the context.
        final Worker<R> home = exchange.home;
        if (exchange.tryFinishBlocking())
        {
            home.publishResume(exchange);
        }
        else
        {
            // Shutdown gave up on this request while the stage ran and has completed it, leaving
            // what it holds to this thread: the call that may have used it has returned now.
            releaseAfterAbandon(exchange);
        }
    }

    private void releaseAfterAbandon(final Exchange<R> exchange)
    {
        if (!exchange.holdsAnything())
        {
            return;
        }
        exchange.releaseAbandoned(); // guarded per resource; only a fatal error escapes
        final Throwable failure = exchange.releaseFailure;
        exchange.releaseFailure = null;
        if (failure != null)
        {
            runtime.stageErrorLog(stage.index).error("held a resource that threw when released for its request, aborted at shutdown", failure);
        }
    }

    private IllegalStateException misuse(final Outcome outcome)
    {
        if (outcome == null)
        {
            return new IllegalStateException("blocking stage '" + stage.name +
                "' returned null; return Outcome.next(stage) or Outcome.done()");
        }
        if (outcome.kind() == Outcome.Kind.BLOCKED)
        {
            return new IllegalStateException("blocking stage '" + stage.name +
                "' returned blocked(); a blocking stage blocks its own thread and returns next(stage) or done()");
        }
        if (outcome.kind() == Outcome.Kind.NEXT && !outcome.target().belongsTo(runtime.token()))
        {
            return new IllegalStateException("blocking stage '" + stage.name + "' continued at " + outcome.target() +
                ", which belongs to another pipeline");
        }
        return null;
    }
}
