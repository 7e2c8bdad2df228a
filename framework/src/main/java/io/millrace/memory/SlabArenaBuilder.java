package io.millrace.memory;

import java.time.Duration;
import java.util.Objects;

/**
 * Configures a {@link SlabArena} and the {@link BufferAllocator}s it makes. Defaults, in one place:
 *
 * <table>
 * <caption>defaults</caption>
 * <tr><td>chunk size</td><td>16 KiB</td></tr>
 * <tr><td>slab size</td><td>1 MiB (64 chunks)</td></tr>
 * <tr><td>slabs allocated at build</td><td>1</td></tr>
 * <tr><td>slab cap</td><td>64 (64 MiB of direct memory)</td></tr>
 * <tr><td>page size (slab alignment)</td><td>4096</td></tr>
 * <tr><td>idle chunks kept per allocator</td><td>256</td></tr>
 * <tr><td>chunks preallocated per allocator</td><td>0</td></tr>
 * <tr><td>idle descriptors / chains kept per allocator</td><td>1024 / 256</td></tr>
 * <tr><td>return queue per pool</td><td>1024</td></tr>
 * <tr><td>sweep interval</td><td>1 s</td></tr>
 * <tr><td>leak detection</td><td>{@link LeakDetector#sampled(int) sampled}, 1 buffer in 128</td></tr>
 * </table>
 *
 * Not thread-safe; a builder builds one arena.
 */
public final class SlabArenaBuilder
{
    int chunkSize = 16 * 1024;
    int slabSize = 1024 * 1024;
    int initialSlabs = 1;
    int maxSlabs = 64;
    int pageSize = 4096;
    int maxIdleChunks = 256;
    int preallocateChunks;
    int maxIdleDescriptors = 1024;
    int maxIdleChains = 256;
    int returnQueueCapacity = LookasidePoolBuilder.DEFAULT_RETURN_QUEUE;
    Duration sweepInterval = LookasidePoolBuilder.DEFAULT_SWEEP_INTERVAL;
    LeakDetector leakDetector;

    SlabArenaBuilder()
    {
    }

    /**
     * @param bytes size of every chunk, a power of two; the most one descriptor holds
     * @return this builder
     */
    public SlabArenaBuilder chunkSize(final int bytes)
    {
        this.chunkSize = bytes;
        return this;
    }

    /**
     * @param bytes size of one slab, a multiple of the chunk size and the page size
     * @return this builder
     */
    public SlabArenaBuilder slabSize(final int bytes)
    {
        this.slabSize = bytes;
        return this;
    }

    /**
     * @param count slabs allocated when the arena is built
     * @return this builder
     */
    public SlabArenaBuilder initialSlabs(final int count)
    {
        this.initialSlabs = count;
        return this;
    }

    /**
     * @param count the most slabs the arena ever allocates; beyond, allocation fails with
     *              {@link SlabExhaustedException}
     * @return this builder
     */
    public SlabArenaBuilder maxSlabs(final int count)
    {
        this.maxSlabs = count;
        return this;
    }

    /**
     * @param bytes the alignment of every slab, a power of two (the OS page size)
     * @return this builder
     */
    public SlabArenaBuilder pageSize(final int bytes)
    {
        this.pageSize = bytes;
        return this;
    }

    /**
     * @param count idle chunks one allocator keeps; beyond, released chunks go back to the arena
     *              at once, where other allocators can take them
     * @return this builder
     */
    public SlabArenaBuilder maxIdleChunksPerAllocator(final int count)
    {
        this.maxIdleChunks = count;
        return this;
    }

    /**
     * @param count chunks each allocator takes from the arena when it is made, and keeps through
     *              sweeps
     * @return this builder
     */
    public SlabArenaBuilder preallocateChunksPerAllocator(final int count)
    {
        this.preallocateChunks = count;
        return this;
    }

    /**
     * @param descriptors idle descriptor objects one allocator keeps
     * @param chains      idle chain objects one allocator keeps
     * @return this builder
     */
    public SlabArenaBuilder maxIdleObjectsPerAllocator(final int descriptors, final int chains)
    {
        this.maxIdleDescriptors = descriptors;
        this.maxIdleChains = chains;
        return this;
    }

    /**
     * @param capacity slots of each pool's cross-thread return queue
     * @return this builder
     */
    public SlabArenaBuilder returnQueueCapacity(final int capacity)
    {
        this.returnQueueCapacity = capacity;
        return this;
    }

    /**
     * @param interval how often an allocator's {@link BufferAllocator#onIdle(long)} sweeps its pools
     * @return this builder
     */
    public SlabArenaBuilder sweepInterval(final Duration interval)
    {
        this.sweepInterval = Objects.requireNonNull(interval, "interval");
        return this;
    }

    /**
     * @param detector the leak detector every allocator of this arena reports to; use
     *                 {@link LeakDetector#paranoid()} in tests
     * @return this builder
     */
    public SlabArenaBuilder leakDetector(final LeakDetector detector)
    {
        this.leakDetector = Objects.requireNonNull(detector, "detector");
        return this;
    }

    /**
     * Checks the sizes, allocates the initial slabs and builds the arena.
     *
     * @return the arena
     */
    public SlabArena build()
    {
        check(Integer.bitCount(pageSize) == 1, "pageSize must be a power of two, was " + pageSize);
        check(chunkSize >= 64 && Integer.bitCount(chunkSize) == 1, "chunkSize must be a power of two >= 64, was " + chunkSize);
        check(slabSize > 0 && slabSize % chunkSize == 0 && slabSize % Math.min(slabSize, pageSize) == 0,
            "slabSize (" + slabSize + ") must be a positive multiple of chunkSize (" + chunkSize + ") and of pageSize (" + pageSize + ")");
        check(slabSize <= Integer.MAX_VALUE - pageSize, "slabSize is too large: " + slabSize);
        check(maxSlabs >= 1, "maxSlabs must be >= 1, was " + maxSlabs);
        check(initialSlabs >= 0 && initialSlabs <= maxSlabs,
            "initialSlabs must be between 0 and maxSlabs (" + maxSlabs + "), was " + initialSlabs);
        check((long)maxSlabs * (slabSize / chunkSize) <= 1 << 24,
            "maxSlabs x chunks per slab must be at most 2^24 chunks; use larger chunks or fewer slabs");
        check(maxIdleChunks >= 0 && preallocateChunks >= 0 && preallocateChunks <= maxIdleChunks,
            "need 0 <= preallocateChunksPerAllocator (" + preallocateChunks + ") <= maxIdleChunksPerAllocator (" + maxIdleChunks + ")");
        check(maxIdleDescriptors >= 0 && maxIdleChains >= 0, "idle object caps must be >= 0");
        check(returnQueueCapacity >= 2, "returnQueueCapacity must be >= 2, was " + returnQueueCapacity);
        check(!sweepInterval.isNegative() && !sweepInterval.isZero(), "sweepInterval must be positive, was " + sweepInterval);
        if (leakDetector == null)
        {
            leakDetector = LeakDetector.sampled(LeakDetector.DEFAULT_SAMPLING_INTERVAL);
        }
        return new SlabArena(this);
    }

    private static void check(final boolean condition, final String message)
    {
        if (!condition)
        {
            throw new IllegalArgumentException(message);
        }
    }
}
