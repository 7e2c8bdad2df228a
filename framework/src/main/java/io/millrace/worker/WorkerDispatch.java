package io.millrace.worker;

import com.lmax.disruptor.EventPoller;
import io.millrace.stage.CancelToken;

/**
 * What a worker does with the work that reaches it: the events of its inbox batch, and the
 * {@link LocalQueue} of requests its own thread submitted or resumed. Each starts a request (a
 * context from the worker's pool), continues it at a stage, or resumes it, and hands it to the
 * {@link StageRunner}.
 *
 * <p>Containment: the runner guards every call into user code, so what escapes it here is either a
 * {@link Fatal fatal} error, which propagates to end the worker, or a runtime bug, which is logged;
 * {@link #onEvent} then returns normally so that the poller advances past the event and the slot is
 * never polled again (the Disruptor's {@code BatchEventProcessor} discipline).
 *
 * <p>Threading: owned by the worker thread, like everything it touches here.
 *
 * @param <R> the request type
 */
final class WorkerDispatch<R> implements EventPoller.Handler<InboxEvent>
{
    /**
     * Thrown out of {@link #onEvent} once the worker was stopped, so that the poller leaves this
     * event and the rest of the batch unconsumed: the shutdown sweep drains them after the worker
     * is joined, and a worker stuck in user code past the deadline, when it returns, touches
     * nothing more. Preallocated and stackless: it is a signal, not an error.
     */
    static final RuntimeException STOPPED = new RuntimeException("worker stopped", null, false, false)
    {
        private static final long serialVersionUID = 1L;
    };

    /** Most hand-offs run after one inbox event before the worker goes on with the batch. */
    static final int HAND_OFF_RUN_LIMIT = 64;

    private final Worker<R> worker;
    private final PipelineRuntime<R> runtime;
    private final StageRunner<R> runner;
    private final ExchangePool<R> exchanges;
    private final LocalQueue local;
    private final WorkerCounters counters;
    private final TurnState turn;

    WorkerDispatch(final Worker<R> worker, final PipelineRuntime<R> runtime, final StageRunner<R> runner,
        final ExchangePool<R> exchanges, final LocalQueue local, final WorkerCounters counters, final TurnState turn)
    {
        this.worker = worker;
        this.runtime = runtime;
        this.runner = runner;
        this.exchanges = exchanges;
        this.local = local;
        this.counters = counters;
        this.turn = turn;
    }

    @Override
    public boolean onEvent(final InboxEvent event, final long sequence, final boolean endOfBatch)
    {
        if (!worker.isRunning())
        {
            throw STOPPED;
        }
        final TurnState t = turn;
        t.batchCount++;
        t.endOfBatch = endOfBatch;
        final int kind = event.kind;
        final int stage = event.stage;
        @SuppressWarnings("unchecked")
        final Exchange<R> carried = (Exchange<R>)event.exchange;
        final Object request = event.request;
        final CancelToken token = event.token;
        final long submittedAt = event.submittedAt;
        final Throwable error = event.error;
        event.clear();

        try
        {
            worker.carrying(carried);
            switch (kind)
            {
                case InboxEvent.SUBMIT ->
                {
                    counters.add(WorkerCounters.SUBMITS_RECEIVED, 1);
                    @SuppressWarnings("unchecked")
                    final R r = (R)request;
                    final Exchange<R> exchange = startExchange(r, token, submittedAt);
                    if (exchange.error == null)
                    {
                        runner.run(exchange, stage);
                    }
                    else
                    {
                        runner.complete(exchange);
                    }
                }
                case InboxEvent.FAIL_SUBMIT ->
                {
                    counters.add(WorkerCounters.SUBMITS_RECEIVED, 1);
                    @SuppressWarnings("unchecked")
                    final R r = (R)request;
                    runner.failAtKey(startExchange(r, token, submittedAt), stage, error);
                }
                case InboxEvent.CONTINUE ->
                {
                    carried.home = worker;
                    runner.run(carried, stage);
                }
                case InboxEvent.RESUME -> runner.resume(carried);
                default -> runtime.internalError(new IllegalStateException("unknown inbox event kind " + kind));
            }
        }
        catch (final Throwable ex)
        {
            // The runner contains user code; a non-fatal error here is a runtime bug. Returning
            // normally lets the poller advance past this event, so the slot is never re-polled.
            Fatal.rethrowIfFatal(ex);
            runtime.internalError(ex);
        }
        finally
        {
            worker.carrying(null);
        }
        if (local.hasUrgent())
        {
            // This event's stages handed a resource (a lock-grid cell) to a request of this worker:
            // run it now, not after the rest of the batch, whose requests would queue behind it.
            runHandOffs();
        }
        return true;
    }

    private Exchange<R> startExchange(final R request, final CancelToken token, final long submittedAt)
    {
        final Exchange<R> exchange = exchanges.take();
        worker.carrying(exchange);
        try
        {
            exchange.start(request, worker, token, submittedAt);
        }
        catch (final IllegalStateException tokenInUse)
        {
            exchange.error = tokenInUse; // submitted twice with one token: fail this one, keep the other
        }
        return exchange;
    }

    /**
     * Submit from the worker's own thread: the request starts in this turn through the local
     * queue, with no ring publish.
     *
     * @param keyError the entry key function's error, or null
     */
    void submitLocal(final R request, final CancelToken token, final long submittedAt, final int stage,
        final Throwable keyError)
    {
        counters.add(WorkerCounters.LOCAL_SUBMITS, 1);
        final Exchange<R> exchange = startExchange(request, token, submittedAt);
        // Nothing runs here, not even a failure: this may be called while the worker sleeps in its
        // I/O's park (a read handler submitting), so the request waits in the local queue for the
        // next phase of the turn. A key error rides along in exchange.error.
        if (keyError != null)
        {
            exchange.error = keyError;
        }
        if (!local.offer(exchange, exchange.error == null || keyError != null ? stage : -1))
        {
            exchange.error = new IllegalStateException("local queue of worker " + worker.index() +
                " was full on a submit: the in-flight bound was broken; please report this");
            runner.complete(exchange);
        }
    }

    /**
     * Runs what this thread submitted or resumed for itself, including what that work adds, up to
     * the queue's capacity per call so that a stage resuming itself forever cannot starve the inbox.
     */
    int drainLocal()
    {
        final LocalQueue q = local;
        int n = 0;
        final int limit = q.size() + 64;
        while (!q.isEmpty() && n < limit && worker.isRunning())
        {
            runNextLocal(q);
            n++;
        }
        return n;
    }

    /**
     * Runs the hand-offs at the front of the local queue now, instead of after the rest of the
     * inbox batch: called once the dispatch that handed a resource over has returned, so nothing
     * runs re-entrantly. A chain (the grantee releases to the next local waiter, and so on) runs
     * here too, up to {@value #HAND_OFF_RUN_LIMIT} per call; the rest stays at the front of the
     * queue and runs before anything else there, so a stage that hands itself over forever cannot
     * starve the inbox.
     *
     * @return requests run
     */
    int runHandOffs()
    {
        final LocalQueue q = local;
        int n = 0;
        while (q.hasUrgent() && n < HAND_OFF_RUN_LIMIT && worker.isRunning())
        {
            runNextLocal(q);
            n++;
        }
        return n;
    }

    private void runNextLocal(final LocalQueue q)
    {
        final int stage = q.peekStage();
        @SuppressWarnings("unchecked")
        final Exchange<R> exchange = (Exchange<R>)q.take();
        worker.carrying(exchange);
        try
        {
            if (stage >= 0 && exchange.error != null)
            {
                runner.failAtKey(exchange, stage, exchange.error); // its entry key threw at submit
            }
            else if (stage >= 0)
            {
                runner.run(exchange, stage);
            }
            else
            {
                runner.resume(exchange);
            }
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            runtime.internalError(ex); // the runner contains user code; this is a bug
        }
        finally
        {
            worker.carrying(null);
        }
    }

    /**
     * A hand-off resume from the worker's own thread ({@code Suspension.resumeFirst}): to the front
     * of the local queue, run as soon as the current dispatch returns.
     */
    void resumeLocalFirst(final Exchange<R> exchange)
    {
        counters.add(WorkerCounters.LOCAL_RESUMES, 1);
        if (!local.offerFirst(exchange, -1))
        {
            exchange.error = new IllegalStateException("local queue of worker " + worker.index() +
                " was full on a resume: the in-flight bound was broken; please report this");
            runner.complete(exchange);
        }
    }

    /** A resume from the worker's own thread: into the local queue, no ring publish. */
    void resumeLocal(final Exchange<R> exchange)
    {
        counters.add(WorkerCounters.LOCAL_RESUMES, 1);
        if (!local.offer(exchange, -1))
        {
            exchange.error = new IllegalStateException("local queue of worker " + worker.index() +
                " was full on a resume: the in-flight bound was broken; please report this");
            runner.complete(exchange);
        }
    }
}
