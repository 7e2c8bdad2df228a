package io.millrace.memory;

import io.millrace.jfr.JfrSwitch;
import io.millrace.jfr.SlabExhaustedEvent;
import io.millrace.worker.AgronaAccess;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

/**
 * The direct memory behind every buffer: large page-aligned slabs, allocated up front and carved
 * into fixed-size chunks. One arena is shared by the workers of a server; each worker takes
 * chunks through its own {@link BufferAllocator}, whose lookaside pool keeps recently released
 * chunks close at hand, so the arena is only visited on a pool miss and by sweeps.
 *
 * <p>When the reserve of free chunks is empty the arena allocates another slab, up to
 * {@link SlabArenaBuilder#maxSlabs(int)}; past the cap the allocation that asked fails with
 * {@link SlabExhaustedException} and nothing else is affected. Slabs are never freed: the cap is
 * the most direct memory buffers will ever use. Chunks idle in one allocator's pool are not
 * available to another until that allocator's sweep (one to two intervals) or its idle cap sends
 * them back; size {@link SlabArenaBuilder#maxIdleChunksPerAllocator(int)} with that in mind.
 *
 * <p>Threading: thread-safe, without locks. The reserve is an Agrona
 * {@link ManyToManyConcurrentArrayQueue} large enough for every chunk the arena can ever have, with
 * a count, {@code available}, beside it: the number of chunks whose give-back has completed and that no take
 * has claimed yet. That count, not the queue, says whether the arena is exhausted, because the
 * queue's answers are only snapshots of claimed slots: its {@code poll()} returns null while the
 * slot at its head is claimed by an {@code offer} not yet published, even with other chunks
 * published behind it, and its {@code offer} returns false while the slot it needs is claimed by a
 * {@code poll} not yet done with it, even though the queue is far from full. Taken at face value
 * the first made an allocation fail with {@link SlabExhaustedException} while chunks were free, and
 * the second made a give-back fail as a "double give-back". So a take first claims one unit of
 * {@code available} with a CAS (no unit: the reserve is really empty, since every completed
 * give-back is matched by a claim) and then polls until it gets its chunk, and a give-back offers
 * until the offer succeeds and only then adds its unit. Either wait is for another thread that is a
 * few instructions from publishing; a take waits only when it holds a claim, which proves a chunk
 * is there. Slab growth is claimed with a CAS on the slab count, so two threads never allocate the
 * slab that only one of them needed; the claiming thread allocates the slab outside any lock.
 */
public final class SlabArena
{
    private static final VarHandle SLABS;
    private static final VarHandle EXHAUSTIONS;
    private static final VarHandle AVAILABLE;
    /** Waits of a take or give-back on another thread's half-done queue operation between yields. */
    private static final int SPINS_BEFORE_YIELD = 64;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            SLABS = lookup.findVarHandle(SlabArena.class, "slabs", int.class);
            EXHAUSTIONS = lookup.findVarHandle(SlabArena.class, "exhaustions", long.class);
            AVAILABLE = lookup.findVarHandle(SlabArena.class, "available", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final int chunkSize;
    private final int slabSize;
    private final int chunksPerSlab;
    private final int maxSlabs;
    private final int pageSize;
    private final ManyToManyConcurrentArrayQueue<Chunk> reserve;
    private final LeakDetector leakDetector;
    private final SlabArenaBuilder settings;

    @SuppressWarnings("unused")
    private volatile int slabs;
    @SuppressWarnings("unused")
    private volatile long exhaustions;
    /**
     * Chunks in the reserve that a take may claim: raised after each completed offer, lowered by a
     * take's CAS before it polls. Every unit stands for a chunk already published in the queue, and
     * every poll is made by a take holding a unit, so the takes holding units never outnumber the
     * published chunks not yet polled: a take holding one always finds its chunk.
     */
    @SuppressWarnings("unused")
    private volatile int available;

    SlabArena(final SlabArenaBuilder b)
    {
        AgronaAccess.check();
        this.chunkSize = b.chunkSize;
        this.slabSize = b.slabSize;
        this.chunksPerSlab = b.slabSize / b.chunkSize;
        this.maxSlabs = b.maxSlabs;
        this.pageSize = b.pageSize;
        this.reserve = new ManyToManyConcurrentArrayQueue<>(Math.max(2, maxSlabs * chunksPerSlab));
        this.leakDetector = b.leakDetector;
        this.settings = b;
        for (int i = 0; i < b.initialSlabs; i++)
        {
            final int slab = (int)SLABS.getAndAdd(this, 1);
            giveBack(carve(slab, "initial slabs"));
        }
    }

    /**
     * @return a builder with the defaults listed on {@link SlabArenaBuilder}
     */
    public static SlabArenaBuilder builder()
    {
        return new SlabArenaBuilder();
    }

    /**
     * Makes an allocator owned by the first thread that uses it.
     *
     * @param name names the allocator's buffers in messages and leak reports, e.g. the worker's name
     * @return a new allocator
     */
    public BufferAllocator newAllocator(final String name)
    {
        return new BufferAllocator(this, name, null, settings);
    }

    /**
     * Makes an allocator for a thread that does not run yet: a worker's allocator is made with the
     * worker and handed to its thread by the thread's start.
     *
     * @param name  names the allocator's buffers in messages and leak reports
     * @param owner the only thread that will allocate from it
     * @return a new allocator
     */
    public BufferAllocator newAllocator(final String name, final Thread owner)
    {
        return new BufferAllocator(this, name, owner, settings);
    }

    /**
     * @return bytes per chunk: the most one descriptor holds
     */
    public int chunkSize()
    {
        return chunkSize;
    }

    /**
     * @return slabs allocated so far
     */
    public int slabCount()
    {
        return (int)SLABS.getVolatile(this);
    }

    /**
     * @return the slab cap
     */
    public int maxSlabs()
    {
        return maxSlabs;
    }

    /**
     * @return free chunks in the arena's reserve (not counting chunks idle in allocators' pools)
     */
    public int chunksInReserve()
    {
        return (int)AVAILABLE.getVolatile(this);
    }

    /**
     * @return allocations refused with {@link SlabExhaustedException}
     */
    public long exhaustions()
    {
        return (long)EXHAUSTIONS.getVolatile(this);
    }

    /**
     * @return the leak detector the arena's allocators report to
     */
    public LeakDetector leakDetector()
    {
        return leakDetector;
    }

    /**
     * Takes a free chunk, allocating a slab if none is free and the cap allows. Any thread.
     *
     * @param requester the allocator asking, for the message
     * @throws SlabExhaustedException if every chunk is taken and the cap is reached
     */
    Chunk takeChunk(final String requester)
    {
        for (;;)
        {
            if (claimAvailable())
            {
                return pollClaimed();
            }
            final int n = (int)SLABS.getVolatile(this);
            if (n >= maxSlabs)
            {
                // A chunk may have come back since the first look.
                if (claimAvailable())
                {
                    return pollClaimed();
                }
                EXHAUSTIONS.getAndAdd(this, 1L);
                if (JfrSwitch.recorderUp() && SlabExhaustedEvent.enabled())
                {
                    SlabExhaustedEvent.emit(requester, chunkSize, slabSize, n, maxSlabs, false);
                }
                throw new SlabExhaustedException("no buffer for allocator '" + requester + "': all " + maxSlabs + " slabs of " +
                    slabSize + " bytes (" + (long)maxSlabs * chunksPerSlab + " chunks of " + chunkSize + " bytes) are in use or " +
                    "idle in allocators' pools, and maxSlabs is " + maxSlabs + ". Fail this request with an overload status, " +
                    "release buffers sooner, or raise SlabArenaBuilder.maxSlabs.", null);
            }
            if (SLABS.compareAndSet(this, n, n + 1))
            {
                return carve(n, requester);
            }
        }
    }

    /**
     * Takes back a chunk an allocator let go (or a new one carved from a slab). Any thread; never
     * fails for a chunk given back once, because the reserve holds every chunk the arena can have.
     *
     * @throws IllegalStateException if the reserve is really full: the chunk was given back twice
     */
    void giveBack(final Chunk chunk)
    {
        chunk.home = null;
        chunk.dropSlotViews();
        int spins = 0;
        while (!reserve.offer(chunk))
        {
            // Usually a poll elsewhere has claimed the slot this offer needs and not yet released
            // it. Really full is another matter: the positions between the queue's head and tail
            // hold distinct chunks, and this one is not among them, so they are fewer than the
            // chunks the arena has and than the capacity; unless this chunk is in there already.
            if (reserve.size() >= reserve.capacity())
            {
                throw new IllegalStateException(chunk.describe() + " was given back to a full reserve: it was given back twice");
            }
            spins = waitForOtherThread(spins);
        }
        AVAILABLE.getAndAdd(this, 1); // after the offer completed: a take that claims this unit finds a published chunk
    }

    /** Claims one chunk of the reserve for the caller, if there is one whose give-back completed. */
    private boolean claimAvailable()
    {
        int n = (int)AVAILABLE.getVolatile(this);
        while (n > 0)
        {
            final int witness = (int)AVAILABLE.compareAndExchange(this, n, n - 1);
            if (witness == n)
            {
                return true;
            }
            n = witness;
        }
        return false;
    }

    /**
     * Polls the chunk a claim entitles the caller to. The queue hands out slots in the order their
     * offers were claimed, so it returns null while the slot at its head belongs to an offer not
     * yet published, however many published chunks wait behind it; that offer is a few instructions
     * from done. Every claim is backed by a completed offer and every poll by a claim, so the chunk
     * is there and the loop ends as soon as the threads in the middle of their offers move on.
     */
    private Chunk pollClaimed()
    {
        int spins = 0;
        for (;;)
        {
            final Chunk chunk = reserve.poll();
            if (chunk != null)
            {
                return chunk;
            }
            spins = waitForOtherThread(spins);
        }
    }

    /** Spins, and now and then yields, so a thread preempted in the middle of a queue operation can finish it. */
    private static int waitForOtherThread(final int spins)
    {
        if (spins % SPINS_BEFORE_YIELD == SPINS_BEFORE_YIELD - 1)
        {
            Thread.yield();
        }
        else
        {
            Thread.onSpinWait();
        }
        return spins + 1;
    }

    /**
     * Allocates slab {@code slab} (its number already claimed), puts all its chunks but the first
     * in the reserve and returns the first.
     *
     * @param requester the allocator asking, for the message and the JFR event
     */
    private Chunk carve(final int slab, final String requester)
    {
        final ByteBuffer memory;
        try
        {
            // allocateDirect aligns only to 8 or 16 bytes: over-allocate by a page and slice.
            memory = ByteBuffer.allocateDirect(slabSize + pageSize).alignedSlice(pageSize);
        }
        catch (final OutOfMemoryError ex)
        {
            final int slabCount = (int)SLABS.getAndAdd(this, -1) - 1;
            EXHAUSTIONS.getAndAdd(this, 1L);
            if (JfrSwitch.recorderUp() && SlabExhaustedEvent.enabled())
            {
                SlabExhaustedEvent.emit(requester, chunkSize, slabSize, slabCount, maxSlabs, true);
            }
            throw new SlabExhaustedException("the JVM refused a slab of " + slabSize + " bytes of direct memory (" + ex.getMessage() +
                "); raise -XX:MaxDirectMemorySize or lower SlabArenaBuilder.maxSlabs so the cap is reached first", ex);
        }
        for (int i = 1; i < chunksPerSlab; i++)
        {
            giveBack(new Chunk(memory.slice(i * chunkSize, chunkSize), slab, i));
        }
        return new Chunk(memory.slice(0, chunkSize), slab, 0);
    }
}
