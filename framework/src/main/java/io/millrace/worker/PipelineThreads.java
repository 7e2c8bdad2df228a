package io.millrace.worker;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.SlabArena;
import io.millrace.stage.WorkerTimers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The threads of a pipeline, its workers and blocking pools: wiring their memory and I/O, starting
 * them, and stopping and joining them at shutdown.
 *
 * <p>Threading: used only by {@link PipelineRuntime}'s synchronized lifecycle methods, so by one
 * thread at a time; everything a worker needs is attached before its thread starts, and
 * Thread.start publishes it.
 *
 * @param <R> the request type
 */
final class PipelineThreads<R>
{
    private static final long WORKER_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long BLOCKING_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final String name;
    private final Worker<R>[] workers;
    private final BlockingStagePool<R>[] pools;

    /**
     * @param name    pipeline name, for messages
     * @param workers the workers, by index
     * @param pools   blocking pools by stage index, null for other stages
     */
    PipelineThreads(final String name, final Worker<R>[] workers, final BlockingStagePool<R>[] pools)
    {
        this.name = name;
        this.workers = workers;
        this.pools = pools;
    }

    /**
     * Attaches allocators and I/O to the workers, preallocates their contexts and starts every thread.
     *
     * @param preallocatePerWorker request contexts to create on each worker
     * @param arena                slabs for the workers' allocators, or null
     * @param ioProvider           I/O the workers poll, or null
     */
    void start(final int preallocatePerWorker, final SlabArena arena, final WorkerIoProvider ioProvider)
    {
        final Thread[] threads = new Thread[workers.length];
        final BufferAllocator[] allocators = new BufferAllocator[workers.length];
        final WorkerTimers[] timers = new WorkerTimers[workers.length];
        for (final Worker<R> worker : workers)
        {
            threads[worker.index()] = worker.thread();
            timers[worker.index()] = worker.timers();
            if (arena != null)
            {
                allocators[worker.index()] = arena.newAllocator(worker.thread().getName(), worker.thread());
                worker.attachAllocator(allocators[worker.index()]);
            }
        }
        if (ioProvider != null)
        {
            final WorkerIo[] ios;
            try
            {
                ios = ioProvider.open(threads, allocators, timers);
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException("pipeline '" + name + "' could not open its I/O: " + ex.getMessage(), ex);
            }
            if (ios.length != workers.length)
            {
                throw new IllegalStateException(ioProvider + " opened " + ios.length + " I/Os for " + workers.length + " workers");
            }
            for (final Worker<R> worker : workers)
            {
                worker.attachIo(ios[worker.index()]);
            }
        }
        for (final Worker<R> worker : workers)
        {
            worker.preallocate(preallocatePerWorker);
            worker.start();
        }
        for (final BlockingStagePool<R> pool : pools)
        {
            if (pool != null)
            {
                pool.start();
            }
        }
    }

    /** Tells every worker's I/O to stop taking new connections. */
    void stopIntake()
    {
        for (final Worker<R> worker : workers)
        {
            if (worker.io() != null)
            {
                worker.io().stopIntake();
            }
        }
    }

    /**
     * Stops the workers and joins each until {@code end}, but at least a grace each: a worker that
     * is not inside user code leaves its loop within one turn, and on a loaded machine that turn
     * may take a while to be scheduled.
     *
     * @param end {@link System#nanoTime()} deadline
     * @return the workers still alive, stuck in user code
     */
    List<Thread> stopWorkers(final long end)
    {
        final List<Thread> threads = new ArrayList<>();
        for (final Worker<R> worker : workers)
        {
            worker.stop();
            threads.add(worker.thread());
        }
        return join(threads, end, WORKER_GRACE_NANOS);
    }

    /**
     * Stops the blocking threads, interrupting any inside user code, and joins each briefly. Called
     * after the shutdown sweep took their requests from them, so an interrupted call's result is
     * dropped rather than completing its request a second time.
     *
     * @return the blocking threads still alive, stuck in user code
     */
    List<Thread> stopBlocking()
    {
        final List<Thread> threads = new ArrayList<>();
        for (final BlockingStagePool<R> pool : pools)
        {
            if (pool != null)
            {
                pool.stop();
                threads.addAll(List.of(pool.threads()));
            }
        }
        return join(threads, System.nanoTime(), BLOCKING_GRACE_NANOS);
    }

    private static List<Thread> join(final List<Thread> threads, final long end, final long grace)
    {
        final List<Thread> stuck = new ArrayList<>();
        for (final Thread thread : threads)
        {
            if (thread == Thread.currentThread())
            {
                continue;
            }
            final long wait = Math.max(grace, end - System.nanoTime());
            try
            {
                thread.join(Duration.ofNanos(wait));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive())
            {
                stuck.add(thread);
            }
        }
        return stuck;
    }
}
