package io.millrace.worker;

import com.lmax.disruptor.EventPoller;
import io.millrace.PipelineAbortedException;
import io.millrace.memory.BufferAllocator;

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
 *       when the call returns, sees it lost, and drops the request: one of the two completes it.
 *       What a request whose call is still running holds stays with that call: the blocking thread
 *       gives it back when the call returns, after the request was completed here.</li>
 * </ul>
 * A worker thread still alive after the join is stuck in user code. Once stopped, a worker touches
 * nothing but the request it is dispatching: its stop checks make it leave the rest of its batch,
 * its local queue, timers and hooks alone, and when the stage it is in returns it completes that
 * request with an abort itself (claiming it with the same hand-off CAS). So the sweep drains its
 * ring like any other and leaves exactly that one request to it, which it may be inside the
 * completion listener of. That request is what the report calls dropped: the in-flight count left
 * after the sweep; it completes if and when the user code returns.
 * The buffer allocators of the stopped workers are handed over first
 * ({@code BufferAllocator.ownerStopped}), so that the chunks this sweep releases for aborted
 * requests, and any released later, go back to the arena rather than into return queues no worker
 * drains any more.
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
            // A stuck worker's ring too: once stopped, it reads no event again (its dispatch throws
            // before touching one), so the sweep is the ring's only consumer from here on.
            try
            {
                worker.drainSubmitsAfterStop(this);
            }
            catch (final Exception ex)
            {
                runtime.internalError(ex);
            }
            try
            {
                // Before the contexts below release what their requests held: from here on a chunk
                // released for the stopped worker, by this sweep or any other thread, goes straight
                // back to the arena instead of into a return queue nobody drains any more.
                final BufferAllocator allocator = worker.allocator();
                if (allocator != null)
                {
                    allocator.ownerStopped();
                }
            }
            catch (final RuntimeException ex)
            {
                runtime.internalError(ex);
            }
        }
        final List<Exchange<?>> heldByStuckWorkers = new ArrayList<>();
        for (final Worker<R> worker : workers)
        {
            if (stuck.contains(worker.thread()) && worker.carrying() != null)
            {
                heldByStuckWorkers.add(worker.carrying());
            }
        }
        for (final Exchange<R> exchange : new ArrayList<>(contexts))
        {
            if (!exchange.inFlight)
            {
                continue;
            }
            if (heldByStuckWorkers.contains(exchange))
            {
                continue; // its worker is inside user code with it and will carry on when that returns
            }
            final int handoff = exchange.abandonHandoff();
            if (handoff == Exchange.HANDOFF_TAKEN)
            {
                continue; // a stopped worker claimed it and completes it itself
            }
            exchange.withdrawSuspension();
            // Kept here, not read back from the context: a resumer or canceller that won the
            // suspension just before the withdrawal, or a blocking thread finishing its call, may
            // still write the context's error; the request completes with the abort all the same.
            final PipelineAbortedException abort = error(where(exchange, handoff));
            exchange.error = abort;
            // A blocking call still running may still use what the request holds (a buffer it fills):
            // its thread gives that back when the call returns (BlockingStagePool), not this sweep.
            if (handoff != Exchange.HANDOFF_RUNNING && exchange.holdsAnything())
            {
                runtime.releaseHeld(exchange, null);
            }
            final R request = exchange.request;
            exchange.clear();
            aborted++;
            runtime.completeAborted(request, abort);
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
        return runtime.inFlightCount();
    }
}
