package io.millrace.worker;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.SlabArena;

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
    private static final long STOP_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

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
        for (final Worker<R> worker : workers)
        {
            threads[worker.index()] = worker.thread();
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
                ios = ioProvider.open(threads, allocators);
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
     * Stops every thread and joins each until {@code end}, but at least a short grace each.
     *
     * @param end {@link System#nanoTime()} deadline
     * @return how many threads were still alive, stuck in user code
     */
    int stopAndJoin(final long end)
    {
        final List<Thread> threads = new ArrayList<>();
        for (final Worker<R> worker : workers)
        {
            worker.stop();
            threads.add(worker.thread());
        }
        for (final BlockingStagePool<R> pool : pools)
        {
            if (pool != null)
            {
                pool.stop();
                threads.addAll(List.of(pool.threads()));
            }
        }
        int stuck = 0;
        for (final Thread thread : threads)
        {
            final long wait = Math.max(STOP_GRACE_NANOS, end - System.nanoTime());
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
                stuck++;
            }
        }
        return stuck;
    }
}
