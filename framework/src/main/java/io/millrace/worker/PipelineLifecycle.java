package io.millrace.worker;

import io.millrace.FatalErrorHandler;
import io.millrace.ShutdownReport;
import io.millrace.memory.SlabArena;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A pipeline's life: start, graceful shutdown with its sweep, and failure.
 *
 * <p>States: NEW, then RUNNING after {@link #start}, STOPPING while a shutdown drains, STOPPED.
 * A fatal error in any pipeline thread ({@link #fail}) closes intake, stops the workers, tells the
 * user's {@link FatalErrorHandler} and starts a shutdown with no drain on a thread of its own, so
 * that what is in flight is aborted even if the user never calls shutdown.
 *
 * <p>Threading: {@link #start} and the shutdown itself are serialised by this object's monitor (they
 * are rare and may block). {@link #fail} may run on any pipeline thread, concurrently with a
 * shutdown; the failure's first-writer-wins CAS picks one. {@link #stopping} is read by foreign
 * resumers that spin on a full ring, so that they give up once nobody will drain it.
 *
 * @param <R> the request type
 */
final class PipelineLifecycle<R>
{
    private static final Logger LOG = LoggerFactory.getLogger(PipelineLifecycle.class);

    private enum State { NEW, RUNNING, STOPPING, STOPPED }

    /** How long the sweep waits for a submitter between admission and publish. */
    private static final long PUBLISH_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final PipelineRuntime<R> runtime;
    private final PipelineThreads<R> threads;
    private final InFlightGate gate;
    private final AtomicReference<Throwable> failure;
    private final FatalErrorHandler fatalHandler;
    /** Set once shutdown stops waiting for in-flight requests. */
    private volatile boolean stopping;
    private State state = State.NEW;
    /** The thread running the sweep, whose listener calls must not start a shutdown inside it. */
    private volatile Thread sweeping;
    private ShutdownReport shutdownReport;

    PipelineLifecycle(final PipelineRuntime<R> runtime, final PipelineThreads<R> threads, final InFlightGate gate,
        final AtomicReference<Throwable> failure, final FatalErrorHandler fatalHandler)
    {
        this.runtime = runtime;
        this.threads = threads;
        this.gate = gate;
        this.failure = failure;
        this.fatalHandler = fatalHandler;
        // Link the compare-and-set now. Its VarHandle call site is linked on first use, which
        // allocates; first used in fail(), out of memory, it threw OutOfMemoryError there, so the
        // pipeline was never marked failed and the user's handler never ran (a demo with a full heap
        // lingered instead of exiting). The failure is null until fail(), so this changes nothing.
        failure.compareAndSet(null, null);
    }

    /**
     * Starts the workers and blocking pools and opens intake.
     *
     * @param preallocatePerWorker request contexts to create on each worker before intake opens
     * @param arena                slabs for the workers' allocators, or null
     * @param ioProvider           I/O the workers poll, or null
     */
    synchronized void start(final int preallocatePerWorker, final SlabArena arena, final WorkerIoProvider ioProvider)
    {
        if (state != State.NEW)
        {
            throw new IllegalStateException("pipeline '" + runtime.name() + "' was already started (state " + state +
                "); build a new pipeline to run again");
        }
        threads.start(preallocatePerWorker, arena, ioProvider);
        state = State.RUNNING;
        gate.open();
    }

    /**
     * Stops intake, waits for in-flight requests until the deadline, then stops every thread and
     * completes whatever is still in flight with a {@link PipelineAbortedException}: every accepted
     * request completes exactly once.
     *
     * @param deadline how long to wait in all
     * @return what happened; the same report on every later call
     * @throws IllegalStateException if called on one of this pipeline's own threads, which the
     *                               shutdown would wait for
     */
    ShutdownReport shutdown(final Duration deadline)
    {
        Objects.requireNonNull(deadline, "deadline");
        if (sweeping == Thread.currentThread())
        {
            throw new IllegalStateException("shutdown() was called from a completion listener while the shutdown of pipeline '" +
                runtime.name() + "' completes what was in flight; it is already shutting down, so there is nothing to do " +
                "(use shutdownAsync(deadline) to get its report)");
        }
        if (isPipelineThread(Thread.currentThread()))
        {
            throw new IllegalStateException("shutdown() was called on " + Thread.currentThread().getName() +
                ", a thread of pipeline '" + runtime.name() + "' that the shutdown has to wait for; call shutdownAsync(deadline) " +
                "from pipeline threads (completion listeners, stages), or shutdown from another thread");
        }
        return shutdownNow(deadline, null);
    }

    /**
     * Starts {@link #shutdown(Duration)} on a thread of its own; callable from anywhere, pipeline
     * threads included.
     *
     * @param deadline how long to wait in all
     * @return the report, when the shutdown is done
     */
    CompletableFuture<ShutdownReport> shutdownAsync(final Duration deadline)
    {
        Objects.requireNonNull(deadline, "deadline");
        final CompletableFuture<ShutdownReport> report = new CompletableFuture<>();
        final Thread t = new Thread(() ->
        {
            try
            {
                report.complete(shutdownNow(deadline, null));
            }
            catch (final Throwable ex)
            {
                report.completeExceptionally(ex);
            }
        }, runtime.name() + "-shutdown");
        t.setDaemon(true);
        t.start();
        return report;
    }

    private synchronized ShutdownReport shutdownNow(final Duration deadline, final Throwable cause)
    {
        if (shutdownReport != null)
        {
            return shutdownReport;
        }
        final long begin = System.nanoTime();
        final long end = begin + Math.max(0, deadline.toNanos());
        final long inFlightAtStart = gate.close();
        threads.stopIntake();
        if (state == State.NEW)
        {
            state = State.STOPPED;
            shutdownReport = new ShutdownReport(0, 0, 0, Duration.ZERO, List.of());
            return shutdownReport;
        }
        state = State.STOPPING;
        while (gate.inFlight() > 0 && System.nanoTime() - end < 0 && failure.get() == null)
        {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        stopping = true;
        final List<Thread> stuck = new ArrayList<>(threads.stopWorkers(end));
        awaitPublishers();
        final Throwable why = cause != null ? cause : failure.get();
        final ShutdownSweep<R> sweep = new ShutdownSweep<>(runtime, runtime.workers(), stuck, why, deadline);
        sweeping = Thread.currentThread();
        try
        {
            sweep.run(runtime.contexts());
        }
        finally
        {
            sweeping = null;
        }
        stuck.addAll(threads.stopBlocking());
        state = State.STOPPED;
        shutdownReport = new ShutdownReport(inFlightAtStart, sweep.aborted() + runtime.abortedByStoppedWorkers(), sweep.dropped(),
            Duration.ofNanos(System.nanoTime() - begin), stuck.stream().map(Thread::getName).toList());
        if (!shutdownReport.clean())
        {
            LOG.warn("pipeline '{}' shut down with {} requests aborted, {} dropped and threads still in user code: {}",
                runtime.name(), sweep.aborted(), sweep.dropped(), shutdownReport.stuckThreadNames());
        }
        return shutdownReport;
    }

    /**
     * Waits, briefly, for submits that were admitted before intake closed but are not yet in a ring
     * (a submitter descheduled, or inside the entry key function): they must be in a ring before the
     * sweep drains it. Bounded: a key function that never returns leaves its request in flight,
     * which the report then counts as dropped.
     */
    private void awaitPublishers()
    {
        final long giveUp = System.nanoTime() + PUBLISH_WAIT_NANOS;
        while (gate.publishing() > 0 && System.nanoTime() - giveUp < 0)
        {
            Thread.yield();
        }
    }

    /**
     * A pipeline thread hit a fatal error: mark the pipeline failed, close intake, stop every
     * thread, tell the user's handler, and abort what is in flight. Runs on the failing thread,
     * after its loop ended; later failures only log.
     */
    void fail(final Throwable error, final Thread where)
    {
        if (!failure.compareAndSet(null, error))
        {
            try
            {
                LOG.error("pipeline '{}': {} hit a further fatal error after the pipeline failed", runtime.name(), where.getName(), error);
            }
            catch (final Throwable ignored)
            {
                // Out of memory while logging: the pipeline has already failed and told the handler.
            }
            return;
        }
        try
        {
            gate.close();
            for (final Worker<R> w : runtime.workers())
            {
                w.stop();
            }
            LOG.error("pipeline '{}' failed: {} hit a fatal error; intake is closed and its threads stop", runtime.name(), where.getName(), error);
        }
        catch (final Throwable ignored)
        {
            // Out of memory while logging: the flag is set, which is what matters.
        }
        if (fatalHandler != null)
        {
            try
            {
                fatalHandler.onFatalError(runtime.name(), where, error);
            }
            catch (final Throwable ignored)
            {
                // The handler's own failure changes nothing: the pipeline is already failed.
            }
        }
        try
        {
            shutdownAsync(Duration.ZERO);
        }
        catch (final Throwable ignored)
        {
            // No thread could be started (out of memory): the user's shutdown() aborts what is left.
        }
    }

    boolean isStopped()
    {
        return stopping;
    }

    private boolean isPipelineThread(final Thread thread)
    {
        if (runtime.workerOf(thread) != null)
        {
            return true;
        }
        for (final BlockingStagePool<R> pool : runtime.pools())
        {
            if (pool != null)
            {
                for (final Thread t : pool.threads())
                {
                    if (t == thread)
                    {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
