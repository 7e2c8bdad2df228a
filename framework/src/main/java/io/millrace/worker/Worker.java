package io.millrace.worker;

import com.lmax.disruptor.EventPoller;
import io.millrace.memory.BufferAllocator;
import io.millrace.memory.PoolStats;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;
import org.agrona.concurrent.IdleStrategy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * One worker: a platform thread that owns a bounded multi-producer Disruptor ring as its
 * {@link Inbox} and runs every inline stage, and the partitions of partitioned stages it owns, in
 * its own loop.
 *
 * <p>The loop has Agrona's agent shape: {@link #doWork()} polls the inbox with the ring's
 * {@link EventPoller} and returns how many events it handled; an empty turn goes to the
 * {@link IdleStrategy}. Each event starts or continues a request, which its {@link StageRunner}
 * then runs stage after inline stage on this thread until it completes, parks, or must cross to
 * another thread; the crossing costs exactly one ring publish.
 *
 * <p>Threading: everything here is owned by the worker thread except {@link #running} (written by
 * the stopping thread), the {@link Inbox} (any thread publishes; see there for the parking
 * handshake) and the {@link ExchangePool} (any worker recycles into it).
 * Owner-written counters use opaque stores so that metrics readers see untorn, recent values.
 *
 * @param <R> the request type
 */
public final class Worker<R> implements Runnable, EventPoller.Handler<InboxEvent>
{
    private static final VarHandle RUNNING;

    static
    {
        try
        {
            RUNNING = MethodHandles.lookup().findVarHandle(Worker.class, "running", boolean.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final int index;
    private final PipelineRuntime<R> runtime;
    private final Inbox inbox;
    private final IdleStrategy idle;
    private final long emptyTurnsBeforePark;
    private final Lane lane;
    private final SingleWriterRecorder batchSizes;
    private final Thread thread;

    @SuppressWarnings("unused")
    private volatile boolean running;

    private long emptyTurns;
    private int batchCount;
    private boolean endOfBatch;
    /** Request contexts; the pool is built in {@link #preallocate} before the thread starts (Thread.start publishes it). */
    private final ExchangePool<R> exchanges;

    private final WorkerCounters counters = new WorkerCounters();
    private final StageRunner<R> runner;

    /** How long a worker with I/O waits in select when it parks; a wakeup ends the wait sooner. */
    private static final long IO_PARK_NANOS = 10_000_000L;

    /** This worker's buffers, or null without memory; set before the thread starts. */
    private BufferAllocator allocator;

    /** The transport's I/O, or null; set by {@link #attachIo} before the thread starts. */
    private WorkerIo io;

    Worker(final int index, final PipelineRuntime<R> runtime, final int ringSize, final IdleStrategy idle,
        final long emptyTurnsBeforePark, final boolean[] runsStage, final int maxFreeExchanges, final int sampleEvery,
        final String threadName)
    {
        this.index = index;
        this.runtime = runtime;
        this.inbox = new Inbox(ringSize);
        this.idle = idle;
        this.emptyTurnsBeforePark = emptyTurnsBeforePark;
        this.lane = new Lane(runtime.stages().length, runsStage);
        this.batchSizes = new SingleWriterRecorder(1, Math.max(2, ringSize), 2);
        this.thread = new Thread(this, threadName);
        this.thread.setDaemon(true);
        this.exchanges = new ExchangePool<>(runtime, thread, maxFreeExchanges);
        this.runner = new StageRunner<>(this, runtime, lane, counters, sampleEvery);
    }

    int index()
    {
        return index;
    }

    Thread thread()
    {
        return thread;
    }

    boolean endOfBatch()
    {
        return endOfBatch;
    }

    Lane lane()
    {
        return lane;
    }

    void start()
    {
        RUNNING.setVolatile(this, true);
        thread.start();
    }

    void attachAllocator(final BufferAllocator bufferAllocator)
    {
        this.allocator = bufferAllocator;
    }

    BufferAllocator allocator()
    {
        return allocator;
    }

    void attachIo(final WorkerIo workerIo)
    {
        this.io = workerIo;
    }

    WorkerIo io()
    {
        return io;
    }

    void stop()
    {
        RUNNING.setVolatile(this, false);
        LockSupport.unpark(thread);
        if (io != null)
        {
            io.wakeup();
        }
    }

    @Override
    public void run()
    {
        try
        {
            while ((boolean)RUNNING.getVolatile(this))
            {
                if (doWork() > 0)
                {
                    emptyTurns = 0;
                    idle.reset();
                }
                else
                {
                    idleTurn();
                }
            }
        }
        finally
        {
            if (io != null)
            {
                io.close();
            }
            // Take in what other threads gave back, so that stopped pools report exact live counts.
            exchanges.drainReturns();
            if (allocator != null)
            {
                allocator.onIdle(System.nanoTime());
            }
        }
    }

    /**
     * One turn of the loop.
     *
     * @return events handled; 0 when the inbox was empty
     */
    int doWork()
    {
        batchCount = 0;
        try
        {
            inbox.poll(this);
        }
        catch (final Exception ex)
        {
            // onEvent catches everything user code throws; reaching here is a runtime bug.
            runtime.internalError(ex);
        }
        final int n = batchCount;
        if (n > 0)
        {
            counters.add(WorkerCounters.RECEIVED, n);
            counters.add(WorkerCounters.BATCHES, 1);
            counters.max(WorkerCounters.MAX_BATCH, n);
            batchSizes.recordValue(n);
        }
        if (io != null)
        {
            try
            {
                return n + io.poll();
            }
            catch (final RuntimeException ex)
            {
                runtime.internalError(ex); // the transport contains handler errors; this is a bug
            }
        }
        return n;
    }

    /**
     * An empty turn. Once the idle strategy may park, announce it, look once more (a producer that
     * published before seeing the announcement has advanced the cursor), then idle.
     */
    private void idleTurn()
    {
        if (++emptyTurns <= emptyTurnsBeforePark)
        {
            idle.idle();
            return;
        }
        if (inbox.announceParking() && (boolean)RUNNING.getVolatile(this))
        {
            // The pool's sweep runs here, on the owner's idle turn: no lock, no hot-path cost.
            final long now = System.nanoTime();
            exchanges.onIdle(now);
            if (allocator != null)
            {
                allocator.onIdle(now);
            }
            counters.add(WorkerCounters.PARKS, 1);
            if (io != null)
            {
                io.park(IO_PARK_NANOS); // the selector is where a worker with sockets sleeps
            }
            else
            {
                idle.idle();
            }
        }
        inbox.clearParking();
    }

    @Override
    public boolean onEvent(final InboxEvent event, final long sequence, final boolean endOfBatch)
    {
        batchCount++;
        this.endOfBatch = endOfBatch;
        final int kind = event.kind;
        final int stage = event.stage;
        @SuppressWarnings("unchecked")
        final Exchange<R> carried = (Exchange<R>)event.exchange;
        final Object request = event.request;
        event.clear();

        switch (kind)
        {
            case InboxEvent.SUBMIT ->
            {
                counters.add(WorkerCounters.SUBMITS_RECEIVED, 1);
                final Exchange<R> exchange = exchanges.take();
                @SuppressWarnings("unchecked")
                final R r = (R)request;
                exchange.start(r, this);
                runner.run(exchange, stage);
            }
            case InboxEvent.CONTINUE ->
            {
                carried.home = this;
                runner.run(carried, stage);
            }
            case InboxEvent.RESUME -> runner.resume(carried);
            default -> runtime.internalError(new IllegalStateException("unknown inbox event kind " + kind));
        }
        return true;
    }

    /** Completes {@code exchange} on this worker's thread. */
    void complete(final Exchange<R> exchange)
    {
        runner.complete(exchange);
    }

    /**
     * Publishes into this worker's inbox from any thread, never waiting.
     *
     * @return {@code false} if the ring had no free slot
     */
    boolean tryPublish(final int kind, final Object request, final Exchange<?> exchange, final int stage)
    {
        if (!inbox.tryPublish(kind, request, exchange, stage))
        {
            return false;
        }
        if (Thread.currentThread() != thread && inbox.claimWake())
        {
            wake();
        }
        return true;
    }

    /**
     * Brings a suspended or blocking-stage request home. Room is guaranteed by the in-flight bound,
     * so this never waits in practice; a non-worker caller spins rather than lose the request if the
     * bound were ever broken.
     */
    void publishResume(final Exchange<R> exchange)
    {
        final Worker<?> caller = runtime.workerOf(Thread.currentThread());
        if (caller != null)
        {
            caller.countPublishSent();
        }
        while (!tryPublish(InboxEvent.RESUME, null, exchange, -1))
        {
            if (caller == this)
            {
                exchange.error = new IllegalStateException("inbox of worker " + index +
                    " was full on a resume: the in-flight bound was broken; please report this");
                runner.resume(exchange);
                return;
            }
            Thread.onSpinWait();
        }
    }

    private void countPublishSent()
    {
        counters.add(WorkerCounters.PUBLISHES_SENT, 1);
    }

    /** Wakes this worker after a producer won its parking announcement. */
    private void wake()
    {
        if (io != null)
        {
            io.wakeup();
        }
        else
        {
            LockSupport.unpark(thread);
        }
    }

    /**
     * Builds the context pool and preallocates {@code count} contexts so that the first requests
     * allocate nothing either. Called once, by the starting thread, before {@link #start()}.
     */
    void preallocate(final int count)
    {
        exchanges.preallocate(count);
    }

    /**
     * @return counters of the allocator's chunk pool; zeros without memory
     */
    PoolStats chunkPoolStats()
    {
        final BufferAllocator a = allocator;
        return a == null ? new PoolStats(thread.getName() + "-chunks", 0, 0, 0, 0, 0, 0, 0, 0, 0) : a.chunkStats();
    }

    /**
     * @return counters of the request-context pool
     */
    PoolStats contextPoolStats()
    {
        return exchanges.stats();
    }

    long ringDepth()
    {
        return inbox.depth();
    }

    int ringCapacity()
    {
        return inbox.capacity();
    }

    long counter(final int counter)
    {
        return counters.get(counter);
    }

    long wakes()
    {
        return inbox.wakes();
    }

    void drainBatchSizes(final Histogram into)
    {
        into.add(batchSizes.getIntervalHistogram());
    }
}
