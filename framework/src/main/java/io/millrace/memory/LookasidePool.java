package io.millrace.memory;

import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;
import java.util.function.Supplier;

import static io.millrace.memory.PoolCounters.DROPS;
import static io.millrace.memory.PoolCounters.EVICTED;
import static io.millrace.memory.PoolCounters.FREES;
import static io.millrace.memory.PoolCounters.HITS;
import static io.millrace.memory.PoolCounters.IDLE;
import static io.millrace.memory.PoolCounters.LIVE;
import static io.millrace.memory.PoolCounters.MISSES;
import static io.millrace.memory.PoolCounters.RETURNS;
import static io.millrace.memory.PoolCounters.SWEEPS;

/**
 * A thread-private lookaside list with two generations: released objects
 * are kept for reuse instead of being given to the garbage collector, and objects nobody asked for
 * during a whole sweep interval are let go.
 *
 * <pre>
 * release (owner)   -> new generation                     (plain array push)
 * release (other)   -> return queue -> new, on the owner's next miss or idle turn
 * acquire           &lt;- new, else old, else drained returns, else factory
 * sweep (idle turn) :  let the old generation go; the new generation becomes the old one
 * </pre>
 *
 * An object released just before a sweep is aged by it and let go by the next; one released just
 * after is let go by the second sweep after it. Sweeps run at least one interval apart, so an idle
 * object is let go after one to two intervals, never sooner than one. A pool in use keeps its
 * objects, because what is acquired and released again always lands in the new generation. Idle
 * objects are capped; the preallocated count is a floor a sweep does not go below.
 *
 * <p>Threading and ownership: a pool belongs to one thread, set with
 * {@link LookasidePoolBuilder#owner(Thread)} or else the first thread to use it. Only the owner may
 * {@link #acquire()}, {@link #sweep()}, {@link #drainReturns()} or {@link #onIdle(long)}: the two
 * generations are plain arrays that only it touches, so the owner's acquire and release take no
 * lock, allocate nothing and log nothing. Any thread may {@link #release(Object)}: another thread's
 * release goes through a bounded Agrona {@link ManyToOneConcurrentArrayQueue} (lock-free; offer is a
 * release, poll an acquire, so the object's state travels with it); if the queue is full the object
 * is dropped and counted, never waited for. Counters are written by the owner with opaque stores
 * and read anywhere with opaque loads; the full-queue drop count is the one counter other threads
 * write, with an atomic add.
 *
 * <p>Releasing the same object twice puts it in the pool twice and later hands it to two users;
 * the pool does not check (it would cost a field in every object). The reference-counted
 * {@link BufferDescriptor} and {@link BufferChain} do check.
 *
 * <p>When the owner thread has ended for good (a worker after its pipeline's shutdown), whoever
 * joined it calls {@link #ownerStopped()}: the idle objects are let go, and from then on a release
 * on any thread lets its object go at once (a chunk goes back to its arena) instead of queueing it
 * for an owner that will never drain again. Without it, what the shutdown released for aborted
 * requests, or another thread released after the owner's last drain, stayed counted as live.
 *
 * @param <T> the pooled type
 */
public final class LookasidePool<T> implements Sweepable
{
    private static final VarHandle OWNER;
    private static final VarHandle FOREIGN_DROPS;
    private static final VarHandle OWNER_STOPPED;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            OWNER = lookup.findVarHandle(LookasidePool.class, "owner", Thread.class);
            FOREIGN_DROPS = lookup.findVarHandle(LookasidePool.class, "foreignDrops", long.class);
            OWNER_STOPPED = lookup.findVarHandle(LookasidePool.class, "ownerStopped", boolean.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final String name;
    private final Supplier<? extends T> factory;
    private final Consumer<? super T> reset;
    private final Consumer<? super T> discard;
    private final int maxIdle;
    private final int floor;
    private final long sweepIntervalNanos;
    private final ManyToOneConcurrentArrayQueue<T> returns;
    private final int returnCapacity;

    private final PoolCounters counters = new PoolCounters();

    /** Set once (builder, first use, or the allocator that owns the pool), then only read. */
    private Thread owner;
    /** Written by other threads, only when the return queue is full. */
    @SuppressWarnings("unused")
    private volatile long foreignDrops;
    /** Set once by {@link #ownerStopped()}; then releases on any thread drain the return queue themselves. */
    @SuppressWarnings("unused")
    private volatile boolean ownerStopped;

    // The two generations, as array stacks: owner thread only.
    private Object[] newGen;
    private int newCount;
    private Object[] oldGen;
    private int oldCount;
    private boolean clockStarted;
    private long lastSweepNanos;

    LookasidePool(final LookasidePoolBuilder<T> b)
    {
        this.name = b.name;
        this.factory = b.factory;
        this.reset = b.reset;
        this.discard = b.discard;
        this.maxIdle = b.maxIdle;
        this.floor = b.preallocate;
        this.sweepIntervalNanos = b.sweepIntervalNanos;
        this.returns = new ManyToOneConcurrentArrayQueue<>(b.returnQueueCapacity);
        this.returnCapacity = returns.capacity();
        this.newGen = new Object[maxIdle];
        this.oldGen = new Object[maxIdle];
        this.owner = b.owner;
        for (int i = 0; i < floor; i++)
        {
            newGen[newCount++] = create();
        }
        counters.set(IDLE, newCount);
    }

    /**
     * @param name    the pool's name, used in stats and messages
     * @param factory creates an object on a miss; runs on the owner thread
     * @param <T>     the pooled type
     * @return a builder
     */
    public static <T> LookasidePoolBuilder<T> builder(final String name, final Supplier<? extends T> factory)
    {
        return new LookasidePoolBuilder<>(name, factory);
    }

    /**
     * Takes an object: from the new generation, else the old one, else from objects other threads
     * returned, else a new one from the factory. Owner thread only; no lock, no allocation on a hit.
     *
     * @return an object the caller owns until it passes it to {@link #release(Object)}
     * @throws IllegalStateException if called from a thread other than the owner
     */
    public T acquire()
    {
        if (!isOwner(Thread.currentThread()))
        {
            throw notOwner("acquire()");
        }
        T object = pop();
        if (object == null && drain() > 0)
        {
            object = pop();
        }
        if (object != null)
        {
            counters.add(HITS, 1);
        }
        else
        {
            object = create();
            counters.add(MISSES, 1);
        }
        counters.add(LIVE, 1);
        return object;
    }

    /**
     * Gives an object back. On the owner thread it goes to the new generation; on any other thread
     * it is queued for the owner, or dropped and counted if the queue is full. Never blocks.
     *
     * @param object an object acquired from this pool and not released since
     */
    public void release(final T object)
    {
        if (object == null)
        {
            throw new NullPointerException("release(null) on pool '" + name + "'");
        }
        if (reset != null)
        {
            reset.accept(object);
        }
        if (isOwner(Thread.currentThread()))
        {
            counters.add(FREES, 1);
            counters.add(LIVE, -1);
            keep(object);
        }
        else if (!returns.offer(object))
        {
            FOREIGN_DROPS.getAndAdd(this, 1L);
            letGo(object);
        }
        else
        {
            // Our offer, then a look at the flag; ownerStopped() sets the flag, then drains. The fence
            // keeps the look from passing the offer, so one of the two always finds the object.
            VarHandle.fullFence();
            if ((boolean)OWNER_STOPPED.getVolatile(this))
            {
                drainStopped();
            }
        }
    }

    /**
     * Takes over from an owner thread that has ended for good: lets every idle object go (chunks
     * back to their arena), and those other threads released since the owner's last drain; every
     * later release on any thread lets its object go at once. Call it after the owner terminated
     * (joined), never while it may still use the pool.
     *
     * @return objects let go now
     * @throws IllegalStateException if the owner thread is still alive
     */
    public int ownerStopped()
    {
        final Thread o = owner();
        if (o != null && o.isAlive())
        {
            throw new IllegalStateException("lookaside pool '" + name + "': ownerStopped() while its owner '" + o.getName() +
                "' is still alive; call it once the owner has terminated");
        }
        OWNER_STOPPED.setVolatile(this, true);
        VarHandle.fullFence();
        return drainStopped();
    }

    /**
     * After the owner stopped: lets the idle objects and the queued returns go. Serialized by the
     * pool's monitor, the owner's state passing to whichever thread holds it; the owner's own last
     * writes are ordered before by its termination, which {@link #ownerStopped()}'s caller saw.
     */
    private synchronized int drainStopped()
    {
        int n = 0;
        final int idle = newCount + oldCount;
        for (int i = 0; i < newCount; i++)
        {
            @SuppressWarnings("unchecked")
            final T victim = (T)newGen[i];
            newGen[i] = null;
            letGo(victim);
        }
        for (int i = 0; i < oldCount; i++)
        {
            @SuppressWarnings("unchecked")
            final T victim = (T)oldGen[i];
            oldGen[i] = null;
            letGo(victim);
        }
        newCount = 0;
        oldCount = 0;
        if (idle > 0)
        {
            counters.add(EVICTED, idle);
            counters.set(IDLE, 0);
        }
        T object;
        while ((object = returns.poll()) != null)
        {
            letGo(object);
            n++;
        }
        if (n > 0)
        {
            counters.add(RETURNS, n);
            counters.add(LIVE, -n);
        }
        return n + idle;
    }

    /**
     * Moves objects other threads returned into the new generation. Owner thread only; also done
     * on every miss and every {@link #onIdle(long)}.
     *
     * @return objects taken in
     */
    public int drainReturns()
    {
        checkOwner("drainReturns()");
        return drain();
    }

    /**
     * Sweeps now, whatever the clock says: drains returns, lets the old generation go (down to the
     * preallocated floor) and makes the new generation the old one. Owner thread only. The timed
     * sweeps of {@link #onIdle(long)} are the ones that keep the one-to-two-interval promise;
     * calling this as well shortens it.
     *
     * @return objects let go
     */
    public int sweep()
    {
        checkOwner("sweep()");
        drain();
        final int keepOld = Math.max(0, Math.min(oldCount, floor - newCount));
        final int evicted = oldCount - keepOld;
        final Object[] old = oldGen;
        for (int i = keepOld; i < oldCount; i++)
        {
            @SuppressWarnings("unchecked")
            final T victim = (T)old[i];
            old[i] = null;
            letGo(victim);
        }
        // Age: the new generation becomes the old one, with the kept old objects (if any) on top.
        final Object[] young = newGen;
        System.arraycopy(old, 0, young, newCount, keepOld);
        for (int i = 0; i < keepOld; i++)
        {
            old[i] = null;
        }
        oldGen = young;
        oldCount = newCount + keepOld;
        newGen = old;
        newCount = 0;
        counters.add(SWEEPS, 1);
        counters.add(EVICTED, evicted);
        counters.set(IDLE, oldCount);
        return evicted;
    }

    /**
     * The owner's idle-turn hook: drains returns, and sweeps if at least one sweep interval has
     * passed since the last timed sweep (the first call only starts the clock).
     *
     * @param nowNanos monotonic time, normally {@link System#nanoTime()}
     * @return objects taken in or let go
     */
    @Override
    public int onIdle(final long nowNanos)
    {
        checkOwner("onIdle()");
        if (!clockStarted)
        {
            clockStarted = true;
            lastSweepNanos = nowNanos;
        }
        int work = drain();
        if (nowNanos - lastSweepNanos >= sweepIntervalNanos)
        {
            lastSweepNanos = nowNanos;
            work += sweep();
        }
        return work;
    }

    /**
     * @return a snapshot of the counters; allocates, so not for the hot path
     */
    public PoolStats stats()
    {
        final long foreign = (long)FOREIGN_DROPS.getVolatile(this);
        final PoolCounters c = counters;
        return new PoolStats(name, c.get(HITS), c.get(MISSES), c.get(FREES), c.get(RETURNS), c.get(DROPS) + foreign,
            c.get(SWEEPS), c.get(EVICTED), c.get(IDLE), c.get(LIVE) - foreign);
    }

    /**
     * @return the pool's name
     */
    public String name()
    {
        return name;
    }

    /**
     * @return the owner thread, or null if no thread has used the pool yet
     */
    public Thread owner()
    {
        return (Thread)OWNER.getVolatile(this);
    }

    /**
     * Makes {@code thread} the owner if the pool has none yet.
     *
     * @throws IllegalStateException if another thread already owns it
     */
    void bindOwner(final Thread thread)
    {
        if (claim(thread) != thread)
        {
            throw notOwner("bindOwner()");
        }
    }

    private T pop()
    {
        if (newCount > 0)
        {
            @SuppressWarnings("unchecked")
            final T object = (T)newGen[--newCount];
            newGen[newCount] = null;
            counters.set(IDLE, newCount + oldCount);
            return object;
        }
        if (oldCount > 0)
        {
            @SuppressWarnings("unchecked")
            final T object = (T)oldGen[--oldCount];
            oldGen[oldCount] = null;
            counters.set(IDLE, oldCount);
            return object;
        }
        return null;
    }

    /** Puts a released object in the new generation; at the cap the oldest idle object goes. */
    private void keep(final T object)
    {
        if (newCount + oldCount >= maxIdle)
        {
            counters.add(DROPS, 1);
            if (oldCount == 0)
            {
                letGo(object);
                return;
            }
            @SuppressWarnings("unchecked")
            final T victim = (T)oldGen[--oldCount];
            oldGen[oldCount] = null;
            letGo(victim);
        }
        newGen[newCount++] = object;
        counters.set(IDLE, newCount + oldCount);
    }

    private int drain()
    {
        int n = 0;
        T object;
        // Bounded, so that threads returning as fast as the owner drains cannot hold it here.
        while (n < returnCapacity && (object = returns.poll()) != null)
        {
            keep(object);
            n++;
        }
        if (n > 0)
        {
            counters.add(RETURNS, n);
            counters.add(LIVE, -n);
        }
        return n;
    }

    private T create()
    {
        final T object = factory.get();
        if (object == null)
        {
            throw new NullPointerException("the factory of pool '" + name + "' returned null");
        }
        return object;
    }

    private void letGo(final T object)
    {
        if (discard != null)
        {
            discard.accept(object);
        }
    }

    private boolean isOwner(final Thread current)
    {
        // A plain read: the owner is written once, and a thread that sees a stale null only takes
        // the slow path, whose CAS and volatile read see the real owner.
        final Thread o = owner;
        if (o == current)
        {
            return true;
        }
        return o == null && claim(current) == current;
    }

    private Thread claim(final Thread candidate)
    {
        if (OWNER.compareAndSet(this, null, candidate))
        {
            return candidate;
        }
        return (Thread)OWNER.getVolatile(this);
    }

    private void checkOwner(final String operation)
    {
        if (!isOwner(Thread.currentThread()))
        {
            throw notOwner(operation);
        }
    }

    private IllegalStateException notOwner(final String operation)
    {
        final Thread o = owner();
        return new IllegalStateException("lookaside pool '" + name + "' belongs to thread '" + (o == null ? "?" : o.getName()) +
            "', but " + operation + " was called on '" + Thread.currentThread().getName() + "'. Only the owner acquires, sweeps " +
            "and drains; other threads may only release. Use the current thread's own pool.");
    }
}
