package io.millrace.worker;

import com.lmax.disruptor.EventPoller;
import io.millrace.PipelineAbortedException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The last step of a shutdown (or of a failure): after the threads were stopped and joined, every
 * request still in flight is completed with a {@link PipelineAbortedException}, exactly once.
 *
 * <p>Where such a request can be, and how the sweep takes it without racing anyone:
 * <ul>
 *   <li>A submit still in a stopped worker's ring, not yet a context: the sweep drains the ring as
 *       its consumer would (the worker thread is joined, so the sweep is now the only consumer).</li>
 *   <li>A context ({@link Exchange}) queued in a ring or a local queue, or parked in a suspension:
 *       found among the pipeline's live contexts by its {@code inFlight} flag, which the joined
 *       worker threads wrote last. Its suspension is withdrawn first, so that a late
 *       {@code resume()} throws instead of reaching a dead worker.</li>
 *   <li>A context queued for, or running in, a blocking stage: its hand-off state is CASed to
 *       abandoned. The blocking thread, which may still be inside user code, CASes the same word
 *       when the call returns, sees it lost, and drops the request: one of the two completes it.</li>
 * </ul>
 * A worker thread still alive after the join is stuck in user code: contexts whose home is that
 * worker may still be touched by it, so they are left alone and counted as dropped.
 *
 * <p>Threading: runs once, on the shutting-down thread, under the runtime's lifecycle lock.
 *
 * @param <R> the request type
 */
final class ShutdownSweep<R> implements EventPoller.Handler<InboxEvent>
{
    private final PipelineRuntime<R> runtime;
    private final Worker<R>[] workers;
    private final List<Thread> stuck;
    private final Throwable cause;
    private final Duration deadline;
    private long aborted;
    private long dropped;

    ShutdownSweep(final PipelineRuntime<R> runtime, final Worker<R>[] workers, final List<Thread> stuck, final Throwable cause,
        final Duration deadline)
    {
        this.runtime = runtime;
        this.workers = workers;
        this.stuck = stuck;
        this.cause = cause;
        this.deadline = deadline;
    }

    void run(final Set<Exchange<R>> contexts)
    {
        for (final Worker<R> worker : workers)
        {
            if (stuck.contains(worker.thread()))
            {
                continue;
            }
            try
            {
                worker.drainSubmitsAfterStop(this);
            }
            catch (final Exception ex)
            {
                runtime.internalError(ex);
            }
        }
        for (final Exchange<R> exchange : new ArrayList<>(contexts))
        {
            if (!exchange.inFlight)
            {
                continue;
            }
            if (exchange.home != null && stuck.contains(exchange.home.thread()))
            {
                dropped++;
                continue;
            }
            final int handoff = exchange.abandonHandoff();
            exchange.withdrawSuspension();
            exchange.error = error(where(exchange, handoff));
            if (exchange.holdsAnything())
            {
                runtime.releaseHeld(exchange, null);
            }
            final R request = exchange.request;
            final Throwable error = exchange.error != null ? exchange.error : error("in flight");
            exchange.clear();
            aborted++;
            runtime.completeAborted(request, error);
        }
    }

    private String where(final Exchange<R> exchange, final int handoff)
    {
        final String stage = runtime.stageName(exchange.stage);
        return switch (handoff)
        {
            case Exchange.HANDOFF_QUEUED -> "queued for blocking stage '" + stage + "'";
            case Exchange.HANDOFF_RUNNING -> "running in blocking stage '" + stage + "' (its thread was interrupted)";
            default -> "last in stage '" + stage + "'";
        };
    }

    private PipelineAbortedException error(final String where)
    {
        return new PipelineAbortedException(cause != null ?
            "pipeline '" + runtime.name() + "' failed with a fatal error before the request completed; it was " + where :
            "pipeline '" + runtime.name() + "' shut down before the request completed (deadline " + deadline + "); it was " + where,
            cause);
    }

    @Override
    public boolean onEvent(final InboxEvent event, final long sequence, final boolean endOfBatch)
    {
        final int kind = event.kind;
        final Object request = event.request;
        event.clear();
        if ((kind == InboxEvent.SUBMIT || kind == InboxEvent.FAIL_SUBMIT) && request != null)
        {
            @SuppressWarnings("unchecked")
            final R r = (R)request;
            aborted++;
            runtime.completeAborted(r, error("waiting in the inbox of a worker"));
        }
        return true;
    }

    long aborted()
    {
        return aborted;
    }

    long dropped()
    {
        return dropped;
    }
}
