package io.millrace.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One allocator's small buffers ({@link BufferAllocator#allocate(int)}): requests of up to half a
 * chunk are rounded up to a power of two of at least {@value Chunk#SLOT_GRAIN} bytes, its size
 * class, and carved in turn from the class's current chunk, the way Linux's {@code page_frag}
 * allocator carves network buffers from a page: a bump offset, and a reference count on the chunk.
 *
 * <p>Counts: the allocator holds one count of each current chunk, each small buffer carved from it
 * one more. When the chunk is used up, the allocator gives its count back and takes a new chunk
 * from its pool; the old one goes home when its last small buffer is released, on whatever thread.
 * When the allocator finds its own count the only one left (every buffer carved so far released),
 * it starts again at offset 0 in the same chunk: in the steady state of short-lived replies one
 * chunk per class serves every request, without a trip through the pool. A chunk whose class
 * allocated nothing for a whole sweep interval is given back, so an idle class keeps no chunk.
 *
 * <p>The cost: a small buffer keeps its whole chunk from going home. One long-lived small buffer
 * pins a chunk that the others carved from it would have freed; keep long-lived data in buffers of
 * {@link BufferAllocator#allocate()} or copy it out.
 *
 * <p>Threading: the owner thread of the allocator only (also {@link #ownerStopped()}, once that
 * thread has ended). Reading the count needs no more than its volatile read: a count of one means
 * every other holder's release happened before, with its writes to the bytes. The counters are
 * written with opaque stores and read with opaque loads by {@link #stats()}, on any thread.
 */
final class SizeClasses
{
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int ALLOCATIONS = 0;
    private static final int CHUNKS_TAKEN = 1;
    private static final int RECYCLED = 2;
    private static final int HELD = 3;

    private final LookasidePool<Chunk> chunks;
    /** The allocator's merge queue, which the chunks' counts use; null for unbiased counts (tests). */
    private final MergeQueue merges;
    private final int chunkSize;
    private final long sweepIntervalNanos;
    /** The largest request served from a size class: half a chunk (0 if chunks are too small to share). */
    final int maxSmall;
    private final Chunk[] current;
    private final int[] next;
    private final boolean[] used;
    private final long[] counters = new long[4];
    private boolean clockStarted;
    private long lastSweepNanos;

    SizeClasses(final LookasidePool<Chunk> chunks, final MergeQueue merges, final int chunkSize, final long sweepIntervalNanos)
    {
        this.chunks = chunks;
        this.merges = merges;
        this.chunkSize = chunkSize;
        this.sweepIntervalNanos = sweepIntervalNanos;
        final int classes = Math.max(0, Integer.numberOfTrailingZeros(chunkSize) - Chunk.SLOT_GRAIN_SHIFT);
        this.maxSmall = classes == 0 ? 0 : chunkSize >>> 1;
        this.current = new Chunk[classes];
        this.next = new int[classes];
        this.used = new boolean[classes];
    }

    /**
     * @param minBytes 1 to {@link #maxSmall}
     * @return the size class: 0 for {@value Chunk#SLOT_GRAIN} bytes, 1 for twice that, ...
     */
    static int classOf(final int minBytes)
    {
        return Math.max(Chunk.SLOT_GRAIN_SHIFT, 32 - Integer.numberOfLeadingZeros(minBytes - 1)) - Chunk.SLOT_GRAIN_SHIFT;
    }

    static int slotBytes(final int sizeClass)
    {
        return Chunk.SLOT_GRAIN << sizeClass;
    }

    /**
     * Claims the next slot of the class's current chunk and a count of that chunk for it, taking a
     * chunk from the pool first if there is none or it is used up. Read the chunk with
     * {@link #chunk(int)} afterwards.
     *
     * @return the slot's offset in the chunk
     * @throws SlabExhaustedException if a chunk was needed and the arena had none
     */
    int claim(final int sizeClass)
    {
        final int bytes = slotBytes(sizeClass);
        Chunk c = current[sizeClass];
        if (c != null)
        {
            if (c.refCnt() == 1)
            {
                if (next[sizeClass] != 0)
                {
                    next[sizeClass] = 0;            // every buffer carved from it is back: start over in place
                    add(RECYCLED, 1);
                }
            }
            else if (next[sizeClass] + bytes > chunkSize)
            {
                // Used up and still in use: our count goes, and the last buffer's release sends it home.
                current[sizeClass] = null;
                add(HELD, -1);
                c.release();
                c = null;
            }
        }
        if (c == null)
        {
            c = chunks.acquire();
            c.home = chunks;
            c.initRefCnt(merges);
            current[sizeClass] = c;
            next[sizeClass] = 0;
            add(CHUNKS_TAKEN, 1);
            add(HELD, 1);
        }
        final int offset = next[sizeClass];
        next[sizeClass] = offset + bytes;
        c.retainOnce();
        used[sizeClass] = true;
        add(ALLOCATIONS, 1);
        return offset;
    }

    /**
     * @return the chunk the last {@link #claim(int)} of this class carved from
     */
    Chunk chunk(final int sizeClass)
    {
        return current[sizeClass];
    }

    /**
     * The idle-turn hook: once per sweep interval, gives back the chunk of every class that
     * allocated nothing since the previous sweep (it goes home at once if all its buffers are back,
     * else with the last of them).
     *
     * @return chunks given back
     */
    int onIdle(final long nowNanos)
    {
        if (!clockStarted)
        {
            clockStarted = true;
            lastSweepNanos = nowNanos;
            return 0;
        }
        if (nowNanos - lastSweepNanos < sweepIntervalNanos)
        {
            return 0;
        }
        lastSweepNanos = nowNanos;
        int n = 0;
        for (int i = 0; i < current.length; i++)
        {
            if (current[i] != null && !used[i])
            {
                n += letGo(i);
            }
            used[i] = false;
        }
        return n;
    }

    /**
     * The owner has ended: gives back every current chunk's count, so each goes home with its last
     * buffer. Called before the chunk pool's own {@code ownerStopped()}, which then lets them go.
     */
    int ownerStopped()
    {
        int n = 0;
        for (int i = 0; i < current.length; i++)
        {
            if (current[i] != null)
            {
                n += letGo(i);
            }
        }
        return n;
    }

    SmallBufferStats stats()
    {
        return new SmallBufferStats(get(ALLOCATIONS), get(CHUNKS_TAKEN), get(RECYCLED), (int)get(HELD));
    }

    private int letGo(final int sizeClass)
    {
        final Chunk c = current[sizeClass];
        current[sizeClass] = null;
        next[sizeClass] = 0;
        add(HELD, -1);
        c.release();
        return 1;
    }

    private void add(final int counter, final long delta)
    {
        LONGS.setOpaque(counters, counter, counters[counter] + delta);
    }

    private long get(final int counter)
    {
        return (long)LONGS.getOpaque(counters, counter);
    }
}
