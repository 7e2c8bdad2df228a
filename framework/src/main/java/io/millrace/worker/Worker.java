package io.millrace.worker;

import com.lmax.disruptor.EventPoller;
import io.millrace.jfr.JfrSwitch;
import io.millrace.jfr.RingHopEvent;
import io.millrace.jfr.WorkerParkEvent;
import io.millrace.memory.BufferAllocator;
import io.millrace.memory.PoolStats;
import io.millrace.stage.CancelToken;
import io.millrace.stage.EndOfTurnHook;
import org.agrona.concurrent.IdleStrategy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * One worker: a platform thread that owns a bounded multi-producer Disruptor ring as its
 * {@link Inbox} and runs every inline stage, and the partitions of partitioned stages it owns, in
 * its own loop.
 *
 * <p>The loop has Agrona's agent shape: {@link #doWork()} does one turn and returns how much work it
 * found; an empty turn goes to the {@link IdleStrategy}. A turn is, in order ({@link WorkerDispatch}
 * handles the first two): the inbox batch (the
 * ring's {@link EventPoller}); the {@link LocalQueue} of requests this thread submitted or resumed
 * itself; the transport's I/O; the {@link WorkerTimerWheel}; the {@link EndOfTurnHooks}. Work that a
 * phase puts into the local queue runs before the next phase, so a request read, handled and
 * answered on this worker never touches the ring.
 *
 * <p>Error discipline: user code (handlers, key functions, listeners, held resources, timer
 * callbacks, end-of-turn hooks, the transport's connection handlers) runs inside guards that catch
 * every {@link Throwable}, fail only what that code was doing and keep the loop going. The loop
 * itself is guarded too, phase by phase. Only a {@link Fatal fatal} error (out of memory, an internal
 * VM error) ends the loop: the worker then reports it to the runtime, which fails the pipeline.
 *
 * <p>Threading: everything here is owned by the worker thread except {@link #running} (written by
 * the stopping thread), the {@link Inbox} (any thread publishes; see there for the parking
 * handshake) and the {@link ExchangePool} (any worker recycles into it). The fields the owner writes
 * per event live in a padded {@link TurnState}, away from the final fields producers read here.
 *
 * @param <R> the request type
 */
public final class Worker<R> implements Runnable
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

    /** How long a worker with I/O waits in select when it parks; a wakeup ends the wait sooner. */
    private static final long IO_PARK_NANOS = 10_000_000L;

    private final int index;
    private final PipelineRuntime<R> runtime;
    private final Inbox inbox;
    private final IdleStrategy idle;
    private final long emptyTurnsBeforePark;
    private final Lane lane;
    private final Thread thread;
    private final TurnState turn = new TurnState();
    private final WorkerDispatch<R> dispatch;
    private final WorkerTimerWheel timers;
    private final EndOfTurnHooks hooks;

    @SuppressWarnings("unused")
    private volatile boolean running;

    /** Request contexts; the pool is built in {@link #preallocate} before the thread starts (Thread.start publishes it). */
    private final ExchangePool<R> exchanges;

    private final WorkerCounters counters = new WorkerCounters();
    private final StageRunner<R> runner;

    /** This worker's buffers, or null without memory; set before the thread starts. */
    private BufferAllocator allocator;

    /** The transport's I/O, or null; set by {@link #attachIo} before the thread starts. */
    private WorkerIo io;

    Worker(final int index, final PipelineRuntime<R> runtime, final int ringSize, final IdleStrategy idle,
        final long emptyTurnsBeforePark, final boolean[] runsStage, final int maxInFlight, final int sampleEvery,
        final String threadName)
    {
        this.index = index;
        this.runtime = runtime;
        this.inbox = new Inbox(ringSize);
        this.idle = idle;
        this.emptyTurnsBeforePark = emptyTurnsBeforePark;
        this.lane = new Lane(runtime.stages().length, runsStage, ringSize);
        this.thread = new Thread(this, threadName);
        this.thread.setDaemon(true);
        this.timers = new WorkerTimerWheel(thread, this::isRunning, runtime.callbackLog());
        this.hooks = new EndOfTurnHooks(this::isRunning, runtime.callbackLog());
        this.exchanges = new ExchangePool<>(runtime, thread, maxInFlight);
        this.runner = new StageRunner<>(this, runtime, lane, counters, sampleEvery);
        this.dispatch = new WorkerDispatch<>(this, runtime, runner, exchanges, new LocalQueue(maxInFlight), counters, turn);
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
        return turn.endOfBatch;
    }

    Lane lane()
    {
        return lane;
    }

    WorkerTimerWheel timers()
    {
        return timers;
    }

    void atEndOfTurn(final EndOfTurnHook hook)
    {
        hooks.register(hook);
    }

    boolean isRunning()
    {
        return (boolean)RUNNING.getVolatile(this);
    }

    /** Owner: records the request being dispatched (null when none); see {@link TurnState#carrying()}. */
    void carrying(final Exchange<?> exchange)
    {
        turn.carrying(exchange);
    }

    /** Sweep: the request a worker stuck in user code is holding, or null. */
    Exchange<?> carrying()
    {
        return turn.carrying();
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
        Throwable fatal = null;
        lane.exitIdle();
        try
        {
            while ((boolean)RUNNING.getVolatile(this))
            {
                lane.onTurn();
                if (doWork() > 0)
                {
                    turn.emptyTurns = 0;
                    idle.reset();
                }
                else
                {
                    idleTurn();
                }
            }
        }
        catch (final Throwable ex)
        {
            // Every phase contains what is not fatal; what reaches here ends this worker.
            fatal = ex;
        }
        finally
        {
            try
            {
                lane.enterIdle();
                releaseOnExit();
            }
            catch (final Throwable again)
            {
                // Out of memory again while cleaning up: the failure below matters more.
                fatal = fatal != null ? fatal : again;
            }
        }
        if (fatal != null)
        {
            try
            {
                runtime.fail(fatal, thread);
            }
            catch (final Throwable again)
            {
                // fail() contains its own errors; this is the last line, so that the thread ends
                // quietly rather than in the JVM's uncaught-exception printer, itself out of memory.
            }
        }
    }

    private void releaseOnExit()
    {
        try
        {
            if (io != null)
            {
                io.close();
            }
        }
        catch (final Throwable ex)
        {
            runtime.internalError(ex);
        }
        try
        {
            // Take in what other threads gave back, so that stopped pools report exact live counts.
            exchanges.drainReturns();
            if (allocator != null)
            {
                allocator.onIdle(System.nanoTime());
            }
        }
        catch (final Throwable ex)
        {
            runtime.internalError(ex);
        }
    }

    /**
     * One turn of the loop. Fatal errors propagate; everything else is contained where it arises.
     *
     * @return work done; 0 when there was none
     */
    int doWork()
    {
        final TurnState t = turn;
        t.batchCount = 0;
        runner.clockStale();
        try
        {
            inbox.poll(dispatch);
        }
        catch (final Exception ex)
        {
            if (ex != WorkerDispatch.STOPPED)
            {
                // onEvent contains everything but fatal errors (which are not Exceptions): a runtime bug.
                runtime.internalError(ex);
            }
        }
        int work = t.batchCount;
        if (work > 0)
        {
            counters.add(WorkerCounters.RECEIVED, work);
            counters.add(WorkerCounters.BATCHES, 1);
            counters.max(WorkerCounters.MAX_BATCH, work);
            lane.recordBatch(work);
        }
        // Once stopped, touch nothing more (a worker returning late from user code must not race the
        // shutdown sweep): every later phase checks.
        work += dispatch.drainLocal();
        if (io != null && isRunning())
        {
            runner.clockStale();
            try
            {
                work += io.poll();
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                runtime.internalError(ex); // the transport contains handler errors; this is a bug
            }
            work += dispatch.drainLocal();
        }
        if (timers.pending() > 0 && isRunning())
        {
            runner.clockStale();
            work += timers.poll(System.nanoTime());
            work += dispatch.drainLocal();
        }
        if (!hooks.isEmpty() && isRunning())
        {
            runner.clockStale();
            work += hooks.run();
            work += dispatch.drainLocal();
        }
        return work;
    }

    /**
     * An empty turn. Once the idle strategy may park, announce it, look once more (a producer that
     * published before seeing the announcement has advanced the cursor), then idle.
     */
    private void idleTurn()
    {
        if (++turn.emptyTurns <= emptyTurnsBeforePark)
        {
            idle.idle();
            return;
        }
        if (inbox.announceParking() && (boolean)RUNNING.getVolatile(this))
        {
            // The pool's sweep runs here, on the owner's idle turn: no lock, no hot-path cost.
            final long now = System.nanoTime();
            try
            {
                exchanges.onIdle(now);
                if (allocator != null)
                {
                    allocator.onIdle(now);
                }
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                runtime.internalError(ex);
            }
            counters.add(WorkerCounters.PARKS, 1);
            lane.enterIdle(); // a metrics reader may swap this lane's histograms itself while we sleep
            final WorkerParkEvent parked = JfrSwitch.recorderUp() ? WorkerParkEvent.beginIfEnabled() : null; // JFR
            try
            {
                park();
            }
            finally
            {
                lane.exitIdle();
            }
            if (parked != null)
            {
                parked.finish(runtime.name(), index, inbox.wakeClaimed());
            }
        }
        inbox.clearParking();
    }

    private void park()
    {
        {
            if (io != null)
            {
                try
                {
                    io.park(timers.parkBound(IO_PARK_NANOS)); // the selector is where a worker with sockets sleeps
                }
                catch (final Throwable ex)
                {
                    Fatal.rethrowIfFatal(ex);
                    runtime.internalError(ex);
                }
            }
            else if (timers.pending() > 0)
            {
                LockSupport.parkNanos(timers.parkBound(IO_PARK_NANOS));
            }
            else
            {
                idle.idle();
            }
        }
    }

    /**
     * Submit from this worker's own thread; see {@link WorkerDispatch#submitLocal}.
     */
    void submitLocal(final R request, final CancelToken token, final long submittedAt, final int stage,
        final Throwable keyError)
    {
        dispatch.submitLocal(request, token, submittedAt, stage, keyError);
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
    boolean tryPublish(final int kind, final Object request, final Exchange<?> exchange, final int stage,
        final CancelToken token, final long submittedAt, final Throwable error)
    {
        if (!inbox.tryPublish(kind, request, exchange, stage, token, submittedAt, error))
        {
            return false;
        }
        recordHop(kind, stage);
        if (Thread.currentThread() != thread && inbox.claimWake())
        {
            wake();
        }
        return true;
    }

    /**
     * JFR's {@code io.millrace.RingHop}, when a recording enables it. Kept out of
     * {@link #tryPublish} so that the publish stays as small as it was for the JIT's inlining; while
     * no recorder has started, this is one load and a branch.
     */
    private void recordHop(final int kind, final int stage)
    {
        if (JfrSwitch.recorderUp() && RingHopEvent.enabled())
        {
            RingHopEvent.emit(runtime.name(), index, InboxEvent.kindName(kind), runtime.stageName(stage), inbox.depth());
        }
    }

    /**
     * Brings a suspended or blocking-stage request home. From this worker's own thread it goes
     * through the local queue; from elsewhere through the ring, whose room is guaranteed by the
     * in-flight bound, so this never waits in practice. A foreign caller spins rather than lose
     * the request if the bound were ever broken, but gives up once the pipeline has stopped (its
     * shutdown completes the request instead).
     */
    void publishResume(final Exchange<R> exchange)
    {
        publishResume(exchange, false);
    }

    /**
     * As {@link #publishResume(Exchange)}; with {@code first}, a resume from this worker's own thread
     * jumps the local queue and runs as soon as the current dispatch returns (a hand-off). From
     * another thread the ring is FIFO either way.
     */
    void publishResume(final Exchange<R> exchange, final boolean first)
    {
        if (Thread.currentThread() == thread)
        {
            if (first)
            {
                dispatch.resumeLocalFirst(exchange);
            }
            else
            {
                dispatch.resumeLocal(exchange);
            }
            return;
        }
        final Worker<?> caller = runtime.workerOf(Thread.currentThread());
        if (caller != null)
        {
            caller.countPublishSent();
        }
        // The event's stage is where the request parked, for diagnostics (JFR's RingHop): read
        // here, while the resumer still owns the request; the worker does not use it.
        final int parkedIn = exchange.stage;
        int spins = 0;
        while (!tryPublish(InboxEvent.RESUME, null, exchange, parkedIn, null, 0, null))
        {
            if (runtime.isStopped())
            {
                return;
            }
            if (++spins < 1_000)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
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
     * Shutdown, once this worker's thread has ended: completes the requests still waiting in its
     * ring that never became exchanges (submits). Exchanges are completed by the runtime's sweep.
     */
    void drainSubmitsAfterStop(final EventPoller.Handler<InboxEvent> handler) throws Exception
    {
        inbox.drainAfterOwnerStopped(handler);
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
}
