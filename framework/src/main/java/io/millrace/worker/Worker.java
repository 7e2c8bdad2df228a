package io.millrace.worker;

import com.lmax.disruptor.EventPoller;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import io.millrace.memory.BufferAllocator;
import io.millrace.memory.LookasidePool;
import io.millrace.memory.PoolStats;
import io.millrace.stage.Outcome;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;
import org.agrona.concurrent.IdleStrategy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * One worker: a platform thread that owns a bounded multi-producer Disruptor ring as its inbox and
 * runs every inline stage, and the partitions of partitioned stages it owns, in its own loop.
 *
 * <p>The loop has Agrona's agent shape: {@link #doWork()} polls the inbox with the ring's
 * {@link EventPoller} and returns how many events it handled; an empty turn goes to the
 * {@link IdleStrategy}. Each event starts or continues a request, which then runs stage after
 * inline stage on this thread until it completes, parks, or must cross to another thread; the
 * crossing costs exactly one ring publish.
 *
 * <p>Threading: everything here is owned by the worker thread except {@link #parking} (written by
 * the worker, cleared by a waking producer), {@link #wakes} (added to by producers), {@link #running}
 * (written by the stopping thread) and the ring, which is the Disruptor's multi-producer protocol.
 * Owner-written counters use opaque stores so that metrics readers see untorn, recent values.
 *
 * @param <R> the request type
 */
public final class Worker<R> implements Runnable, EventPoller.Handler<InboxEvent>
{
    private static final VarHandle PARKING;
    private static final VarHandle RUNNING;
    private static final VarHandle WAKES;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            PARKING = lookup.findVarHandle(Worker.class, "parking", int.class);
            RUNNING = lookup.findVarHandle(Worker.class, "running", boolean.class);
            WAKES = lookup.findVarHandle(Worker.class, "wakes", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final int index;
    private final PipelineRuntime<R> runtime;
    private final StageDef<R>[] stages;
    private final RingBuffer<InboxEvent> ring;
    private final EventPoller<InboxEvent> poller;
    private final Sequence consumed;
    private final IdleStrategy idle;
    private final long emptyTurnsBeforePark;
    private final Lane lane;
    private final SingleWriterRecorder batchSizes;
    private final int maxFreeExchanges;
    private final Thread thread;

    @SuppressWarnings("unused")
    private volatile int parking;
    @SuppressWarnings("unused")
    private volatile boolean running;
    @SuppressWarnings("unused")
    private volatile long wakes;

    private final long sampleMask;
    private long runs;
    private long emptyTurns;
    private int batchCount;
    private boolean endOfBatch;
    /**
     * Request contexts: a lookaside pool this worker owns, built in {@link #preallocate} before the
     * thread starts (Thread.start publishes it). A context completed on another worker goes back
     * here through the pool's return queue.
     */
    private LookasidePool<Exchange<R>> exchanges;

    private final WorkerCounters counters = new WorkerCounters();

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
        this.sampleMask = sampleEvery - 1;
        this.index = index;
        this.runtime = runtime;
        this.stages = runtime.stages();
        this.ring = RingBuffer.createMultiProducer(InboxEvent::new, ringSize);
        this.poller = ring.newPoller();
        this.consumed = poller.getSequence();
        this.ring.addGatingSequences(consumed);
        this.idle = idle;
        this.emptyTurnsBeforePark = emptyTurnsBeforePark;
        this.lane = new Lane(stages.length, runsStage);
        this.batchSizes = new SingleWriterRecorder(1, Math.max(2, ringSize), 2);
        this.maxFreeExchanges = maxFreeExchanges;
        this.thread = new Thread(this, threadName);
        this.thread.setDaemon(true);
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
            poller.poll(this);
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
        // Volatile store then load of the cursor: the StoreLoad a producer's publish-fence-load pairs with.
        PARKING.setVolatile(this, 1);
        if (ring.getCursor() == consumed.get() && (boolean)RUNNING.getVolatile(this))
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
        PARKING.setOpaque(this, 0);
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
                final Exchange<R> exchange = takeExchange();
                @SuppressWarnings("unchecked")
                final R r = (R)request;
                exchange.start(r, this);
                run(exchange, stage);
            }
            case InboxEvent.CONTINUE ->
            {
                carried.home = this;
                run(carried, stage);
            }
            case InboxEvent.RESUME -> resume(carried);
            default -> runtime.internalError(new IllegalStateException("unknown inbox event kind " + kind));
        }
        return true;
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
        long start = timed ? System.nanoTime() : 0L;
        for (;;)
        {
            final StageDef<R> def = stages[s];
            int partition = -1;
            if (def.kind == StageDef.PARTITIONED)
            {
                partition = def.partitionOf(exchange.request);
                final Worker<R> owner = runtime.ownerOf(partition);
                if (owner != this)
                {
                    hop(owner, exchange, s);
                    return;
                }
            }
            else if (def.kind == StageDef.PINNED)
            {
                final int target = def.key.applyAsInt(exchange.request);
                if (target != index)
                {
                    final Worker<R> owner = runtime.worker(target);
                    if (owner == null)
                    {
                        failStage(exchange, s, new IllegalArgumentException("stage '" + def.name + "' is pinned to worker " +
                            target + " but the pipeline has workers 0 to " + (runtime.workerCount() - 1)));
                        return;
                    }
                    hop(owner, exchange, s);
                    return;
                }
            }
            else if (def.kind == StageDef.BLOCKING)
            {
                runtime.blockingPool(s).submit(exchange, s, this);
                return;
            }

            exchange.beginDispatch(s, partition);
            final Outcome outcome;
            try
            {
                outcome = def.handler.handle(exchange.request, exchange);
            }
            catch (final Throwable ex)
            {
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
            if (timed)
            {
                final long now = System.nanoTime();
                lane.record(s, now - start);
                start = now;
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
                return;
            }
        }
    }

    private void resume(final Exchange<R> exchange)
    {
        exchange.home = this;
        final Outcome outcome = exchange.resumeOutcome;
        exchange.resumeOutcome = null;
        if (outcome == null || outcome.kind() == Outcome.Kind.DONE)
        {
            complete(exchange); // carries exchange.error, if any
        }
        else
        {
            run(exchange, outcome.target().index());
        }
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
            runtime.abandonedResources(exchange, lane);
        }
        final Throwable error = exchange.error;
        runtime.notifyComplete(exchange.request, error);
        if (error == null)
        {
            counters.add(WorkerCounters.COMPLETED, 1);
        }
        else
        {
            counters.add(WorkerCounters.FAILED, 1);
        }
        recycle(exchange);
        runtime.releaseInFlight();
    }

    private void hop(final Worker<R> owner, final Exchange<R> exchange, final int stage)
    {
        counters.add(WorkerCounters.PUBLISHES_SENT, 1);
        if (!owner.tryPublish(InboxEvent.CONTINUE, null, exchange, stage))
        {
            // Impossible while maxInFlight <= ringSize / 2; fail loudly rather than lose the request.
            exchange.error = new IllegalStateException("inbox of worker " + owner.index +
                " was full on an internal hop: the in-flight bound was broken; please report this");
            complete(exchange);
        }
    }

    /**
     * Publishes into this worker's inbox from any thread, never waiting.
     *
     * @return {@code false} if the ring had no free slot
     */
    boolean tryPublish(final int kind, final Object request, final Exchange<?> exchange, final int stage)
    {
        final long sequence;
        try
        {
            sequence = ring.tryNext();
        }
        catch (final InsufficientCapacityException ex)
        {
            return false;
        }
        final InboxEvent event = ring.get(sequence);
        event.kind = kind;
        event.stage = stage;
        event.request = request;
        event.exchange = exchange;
        ring.publish(sequence);
        if (Thread.currentThread() != thread)
        {
            wakeIfParking();
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
                resume(exchange);
                return;
            }
            Thread.onSpinWait();
        }
    }

    private void countPublishSent()
    {
        counters.add(WorkerCounters.PUBLISHES_SENT, 1);
    }

    private void wakeIfParking()
    {
        // The publish above is a release store; without this fence the load below could be
        // reordered before it and miss a worker that announced parking after we looked.
        VarHandle.fullFence();
        if ((int)PARKING.getVolatile(this) == 1 && PARKING.compareAndSet(this, 1, 0))
        {
            WAKES.getAndAdd(this, 1L);
            if (io != null)
            {
                io.wakeup();
            }
            else
            {
                LockSupport.unpark(thread);
            }
        }
    }

    private Exchange<R> takeExchange()
    {
        final Exchange<R> exchange = exchanges.acquire();
        exchange.origin = exchanges;
        return exchange;
    }

    private void recycle(final Exchange<R> exchange)
    {
        final LookasidePool<Exchange<R>> origin = exchange.origin;
        exchange.clear();
        origin.release(exchange);
    }

    /**
     * Builds the context pool and preallocates {@code count} contexts so that the first requests
     * allocate nothing either. Called once, by the starting thread, before {@link #start()}.
     */
    void preallocate(final int count)
    {
        final int floor = Math.min(count, maxFreeExchanges);
        exchanges = LookasidePool.<Exchange<R>>builder(thread.getName() + "-contexts", () -> new Exchange<>(runtime))
            .owner(thread)
            .maxIdle(maxFreeExchanges)
            .preallocate(floor)
            .returnQueueCapacity(Math.max(16, maxFreeExchanges))
            .build();
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
        final LookasidePool<Exchange<R>> pool = exchanges;
        return pool == null ? new PoolStats(thread.getName() + "-contexts", 0, 0, 0, 0, 0, 0, 0, 0, 0) : pool.stats();
    }

    long ringDepth()
    {
        return Math.max(0, ring.getCursor() - consumed.get());
    }

    int ringCapacity()
    {
        return ring.getBufferSize();
    }

    long counter(final int counter)
    {
        return counters.get(counter);
    }

    long wakes()
    {
        return (long)WAKES.getVolatile(this);
    }

    void drainBatchSizes(final Histogram into)
    {
        into.add(batchSizes.getIntervalHistogram());
    }
}
