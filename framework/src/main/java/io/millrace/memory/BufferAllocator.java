package io.millrace.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Objects;

/**
 * One thread's source of buffers: descriptors on chunks of the shared {@link SlabArena}, slices,
 * file regions and chains. A server makes one per worker.
 *
 * <p>The allocator holds three {@link LookasidePool}s, all owned by its thread: chunks, descriptor
 * objects and chain objects. Allocating on the owner thread is a pool pop or two and a few field
 * stores: no lock, and no garbage once the pools are warm. Reference counts of its buffers cost no
 * atomic on the owner (see {@link RefCounted}). Releasing is allowed on any thread; what another
 * thread releases last comes back through this allocator's merge queue and is given back to the
 * pools on the owner, which drains that queue on every allocation and in {@link #onIdle(long)}. The
 * worker calls {@code onIdle} on its idle turn; it also drains the pools' return queues, sweeps, and
 * reports leaks the {@link LeakDetector} has found.
 *
 * <p>Two sizes of buffer: {@link #allocate()} gives a whole chunk ({@link SlabArena#chunkSize()},
 * 16 KiB by default), for reads and large bodies; {@link #allocate(int)} gives the smallest power of
 * two of at least 64 bytes that holds the request, carved with other small buffers of its size
 * from a chunk this allocator shares out (see {@link SizeClasses}), for replies, headers and other
 * small things. Both are pool pops and field stores on the owner thread.
 *
 * <p>Threading: the owner is the thread given to {@link SlabArena#newAllocator(String, Thread)} or
 * else the first to allocate. Every method except {@link #name()}, the stats getters and (through
 * the buffers) release must be called on the owner.
 */
public final class BufferAllocator implements Sweepable
{
    private static final VarHandle OWNER;

    static
    {
        try
        {
            OWNER = MethodHandles.lookup().findVarHandle(BufferAllocator.class, "owner", Thread.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final SlabArena arena;
    private final String name;
    private final LeakDetector leaks;
    private final LookasidePool<Chunk> chunks;
    private final LookasidePool<BufferDescriptor> descriptors;
    private final LookasidePool<BufferChain> chains;
    private final SizeClasses small;
    /** Objects this allocator's buffers, chunks and chains that other threads are done with; see {@link RefCounted}. */
    private final MergeQueue merges;

    /** Set once, then only read; see {@link LookasidePool} for why a plain read suffices. */
    private Thread owner;
    /** Names each allocation, for messages and leak reports; owner only. */
    private long serial;

    BufferAllocator(final SlabArena arena, final String name, final Thread owner, final SlabArenaBuilder s)
    {
        if (name == null || name.isBlank())
        {
            throw new IllegalArgumentException("an allocator needs a non-blank name (it names its buffers in messages)");
        }
        this.arena = arena;
        this.name = name;
        this.leaks = arena.leakDetector();
        final LookasidePoolBuilder<Chunk> c = LookasidePool.<Chunk>builder(name + "-chunks", () -> arena.takeChunk(name))
            .maxIdle(s.maxIdleChunks).preallocate(s.preallocateChunks).onDiscard(arena::giveBack);
        final LookasidePoolBuilder<BufferDescriptor> d = LookasidePool.<BufferDescriptor>builder(name + "-descriptors",
            () -> new BufferDescriptor(this)).maxIdle(s.maxIdleDescriptors);
        final LookasidePoolBuilder<BufferChain> ch = LookasidePool.<BufferChain>builder(name + "-chains",
            () -> new BufferChain(this)).maxIdle(s.maxIdleChains);
        for (final LookasidePoolBuilder<?> b : new LookasidePoolBuilder<?>[] {c, d, ch})
        {
            b.returnQueueCapacity(s.returnQueueCapacity).sweepInterval(s.sweepInterval);
            if (owner != null)
            {
                b.owner(owner);
            }
        }
        this.chunks = c.build();
        this.descriptors = d.build();
        this.chains = ch.build();
        this.merges = new MergeQueue(name);
        this.small = new SizeClasses(chunks, merges, s.chunkSize, s.sweepInterval.toNanos());
        this.owner = owner;
    }

    /**
     * Allocates an empty buffer on a chunk of its own: offset 0, length 0, room for
     * {@link SlabArena#chunkSize()} bytes.
     *
     * @return a descriptor with a reference count of 1; the caller releases it or hands it on
     * @throws SlabExhaustedException if the arena has no chunk left and may not grow
     */
    public BufferDescriptor allocate()
    {
        checkOwner("allocate()");
        merges.drain();
        return allocateChunk();
    }

    /**
     * Allocates an empty buffer with room for at least {@code minBytes}: its
     * {@link BufferDescriptor#writableBytes()} is the smallest power of two of at least 64 that
     * holds {@code minBytes}, and past half a chunk it is a whole chunk, as {@link #allocate()}
     * gives. A small buffer is carved from a chunk this allocator shares among the small buffers of
     * its size, so a 40-byte reply takes 64 bytes, not 16 KiB; the chunk goes back to the pool when
     * the last buffer carved from it is released (until then one long-lived small buffer keeps its
     * whole chunk out, so keep long-lived data in {@link #allocate()}'s buffers). Releasing, on any
     * thread, and the ownership rules are as for every buffer. No lock; no allocation once the
     * pools are warm.
     *
     * @param minBytes the bytes the caller will put, from 1 to {@link SlabArena#chunkSize()}
     * @return a descriptor with a reference count of 1; the caller releases it or hands it on
     * @throws IllegalArgumentException if {@code minBytes} is below 1 or above the chunk size
     * @throws SlabExhaustedException   if a chunk was needed and the arena had none left
     */
    public BufferDescriptor allocate(final int minBytes)
    {
        checkOwner("allocate(int)");
        merges.drain();
        if (minBytes > small.maxSmall)
        {
            if (minBytes > arena.chunkSize())
            {
                throw new IllegalArgumentException("allocate(" + minBytes + ") on allocator '" + name + "': one buffer holds at " +
                    "most a chunk, " + arena.chunkSize() + " bytes. Put larger data in a BufferChain of several buffers, or raise " +
                    "SlabArenaBuilder.chunkSize.");
            }
            return allocateChunk();
        }
        if (minBytes < 1)
        {
            throw new IllegalArgumentException("allocate(" + minBytes + ") on allocator '" + name + "': ask for at least 1 byte " +
                "(the bytes you will put), or call allocate() for a whole chunk");
        }
        final int sizeClass = SizeClasses.classOf(minBytes);
        final int offset = small.claim(sizeClass);
        final Chunk chunk = small.chunk(sizeClass);
        final BufferDescriptor d = descriptors.acquire();
        d.bindSlot(chunk, offset, SizeClasses.slotBytes(sizeClass), chunk.slotView(offset), ++serial, merges);
        d.leak = leaks.track(d);
        return d;
    }

    private BufferDescriptor allocateChunk()
    {
        final Chunk chunk = chunks.acquire();
        chunk.home = chunks;
        chunk.initRefCnt(merges);
        final BufferDescriptor d = descriptors.acquire();
        d.bindChunk(chunk, 0, 0, chunk.capacity(), chunk.capacity(), ++serial, merges, true);
        d.leak = leaks.track(d);
        return d;
    }

    /**
     * Makes a descriptor for part of another's bytes without copying them: the new descriptor
     * points into the same chunk (whose count goes up by one) or the same file. It cannot grow; the
     * shared bytes must not be modified while both exist.
     *
     * @param source a live descriptor, from any allocator
     * @param index  where the slice starts, relative to the source's data offset
     * @param length bytes in the slice
     * @return a descriptor with a reference count of 1, independent of the source's
     */
    public BufferDescriptor slice(final BufferDescriptor source, final long index, final long length)
    {
        checkOwner("slice()");
        merges.drain();
        source.ensureAccessible("slice()");
        if (index < 0 || length < 0 || index + length > source.length())
        {
            throw new IndexOutOfBoundsException("slice(" + index + ", " + length + ") is outside the " + source.length() +
                " bytes of " + source.describe());
        }
        final BufferDescriptor d = descriptors.acquire();
        final long start = source.offset() + index;
        if (source.isWrapped())
        {
            // A view of its own: a slice may be written on another thread (or gathered with its source)
            // while the source's shared view is being positioned for another write. Slicing lent memory
            // is not on the static-file path, so the one small object this allocates costs nothing there.
            d.bindMemory(source.sharedView().duplicate(), (int)start, (int)length, ++serial, merges);
            // Whoever lent the memory may reuse it once the source is released: hold the source until the slice is.
            final BufferDescriptor holder = source.parent != null ? source.parent : source;
            d.parent = holder.retain();
        }
        else if (source.isFileRegion())
        {
            d.bindFile(source.file, start, length, ++serial, merges);
            if (source.regionOwner != null || source.parent != null)
            {
                // The owner may close the file once the source is released: hold the source until the slice is.
                final BufferDescriptor holder = source.parent != null ? source.parent : source;
                d.parent = holder.retain();
            }
        }
        else
        {
            final Chunk chunk = source.chunk;
            chunk.retainOnce();
            d.bindChunk(chunk, start, length, start + length, source.capacity(), ++serial, merges, false);
        }
        d.leak = leaks.track(d);
        return d;
    }

    /**
     * @param source a live descriptor
     * @return a slice of all of its data
     */
    public BufferDescriptor slice(final BufferDescriptor source)
    {
        return slice(source, 0, source.length());
    }

    /**
     * Makes a descriptor for {@code count} bytes of a file, sent with
     * {@link FileChannel#transferTo(long, long, java.nio.channels.WritableByteChannel)} (sendfile)
     * when its chain is written: the bytes never enter the JVM. The descriptor does not own the
     * channel: keep it open until the descriptor is released, then close it yourself.
     *
     * @param file     an open channel readable from {@code position}
     * @param position where the region starts in the file
     * @param count    bytes in the region
     * @return a descriptor with a reference count of 1
     */
    public BufferDescriptor fileRegion(final FileChannel file, final long position, final long count)
    {
        return fileRegion(file, position, count, null);
    }

    /**
     * Like {@link #fileRegion(FileChannel, long, long)}, and tells {@code owner} when the region no
     * longer needs the file: {@link FileRegionOwner#regionSent()} runs once, after the last release
     * of the descriptor (slices of it count as holders), so the owner can keep one channel open for
     * many regions and close it when the last is done.
     *
     * @param file     an open channel readable from {@code position}
     * @param position where the region starts in the file
     * @param count    bytes in the region
     * @param owner    told once when the region is released; null for none
     * @return a descriptor with a reference count of 1
     */
    public BufferDescriptor fileRegion(final FileChannel file, final long position, final long count,
        final FileRegionOwner owner)
    {
        checkOwner("fileRegion()");
        merges.drain();
        Objects.requireNonNull(file, "file");
        if (position < 0 || count < 0)
        {
            throw new IllegalArgumentException("a file region needs position >= 0 and count >= 0, got " + position + ", " + count);
        }
        final BufferDescriptor d = descriptors.acquire();
        d.bindFile(file, position, count, ++serial, merges);
        d.regionOwner = owner;
        d.leak = leaks.track(d);
        return d;
    }

    /**
     * Makes a read-only descriptor for {@code length} bytes of memory that is not the slab's, such
     * as a small file read once into a buffer that a file cache keeps: sent with the chain's
     * gathering write like any memory descriptor, so that a response head and such a body leave in
     * one {@code writev}, and never copied. The memory is lent, not taken: its lender keeps it
     * unchanged until {@code owner} is told, once, after the last release of the descriptor
     * (slices of it count as holders). Any number of descriptors may point into the same memory at
     * once; the ones made here share its {@link ByteBuffer} object, which the chain's write
     * positions for each of them in turn, so that lending allocates nothing: write them on this
     * allocator's thread, and do not hand the buffer itself to anyone else. A {@link #slice} of
     * lent memory, and {@link BufferDescriptor#readableBuffer()}, get a view of their own, and may
     * be used on other threads like any descriptor.
     *
     * @param memory the bytes; its position and limit are ignored and will be changed
     * @param index  where the lent bytes start in {@code memory}
     * @param length how many bytes are lent
     * @param owner  told once when the descriptor (and every slice of it) is released; null for none
     * @return a descriptor with a reference count of 1 and no room to write
     * @throws IndexOutOfBoundsException if the bytes are not inside {@code memory}'s capacity
     */
    public BufferDescriptor wrap(final ByteBuffer memory, final int index, final int length, final FileRegionOwner owner)
    {
        checkOwner("wrap()");
        merges.drain();
        Objects.requireNonNull(memory, "memory");
        Objects.checkFromIndexSize(index, length, memory.capacity());
        final BufferDescriptor d = descriptors.acquire();
        d.bindMemory(memory, index, length, ++serial, merges);
        d.regionOwner = owner;
        d.leak = leaks.track(d);
        return d;
    }

    /**
     * @return an empty chain with a reference count of 1
     */
    public BufferChain newChain()
    {
        checkOwner("newChain()");
        merges.drain();
        final BufferChain chain = chains.acquire();
        chain.init(++serial, merges);
        return chain;
    }

    /**
     * Gives each consumer of shared data its own chain: a new chain holding a {@link #slice} of
     * every descriptor of {@code source}, so the bytes are shared and the structure is not. Writing
     * the copy consumes the copy only.
     *
     * @param source a live chain
     * @return a new chain with a reference count of 1
     */
    public BufferChain duplicate(final BufferChain source)
    {
        checkOwner("duplicate()");
        source.ensureAccessible("duplicate()");
        final BufferChain copy = newChain();
        for (BufferDescriptor d = source.first(); d != null; d = d.next())
        {
            copy.append(slice(d));
        }
        return copy;
    }

    /**
     * Drains buffers other threads released into this allocator's pools, sweeps them when the
     * interval has passed (idle chunks go back to the arena), and reports leaks. Owner only; call
     * it on every idle turn.
     *
     * @param nowNanos monotonic time, normally {@link System#nanoTime()}
     * @return objects taken in or let go, plus leaks reported
     */
    @Override
    public int onIdle(final long nowNanos)
    {
        checkOwner("onIdle()");
        // What other threads are done with first: its deallocations feed the pools drained below.
        final int merged = merges.drain();
        // Small-buffer chunks first: one let go now is in the chunk pool for its sweep.
        final int letGo = small.onIdle(nowNanos);
        return merged + letGo + chunks.onIdle(nowNanos) + descriptors.onIdle(nowNanos) + chains.onIdle(nowNanos) + leaks.poll();
    }

    /**
     * The owner thread has ended for good (a worker after its pipeline stopped): gives idle chunks
     * back to the arena now, and makes every later release, on any thread, give its chunk back at
     * once rather than queue it for an owner that will never drain again. Call it after the owner
     * terminated. See {@link LookasidePool#ownerStopped()}.
     *
     * @return objects let go now
     * @throws IllegalStateException if the owner thread is still alive
     */
    public int ownerStopped()
    {
        final Thread o = owner;
        if (o != null && o.isAlive())
        {
            throw new IllegalStateException("buffer allocator '" + name + "': ownerStopped() while its owner '" + o.getName() +
                "' is still alive; call it once the owner has terminated");
        }
        // Objects other threads queued for the owner first, and from now on they settle on their releasing
        // thread; then the shared small-buffer chunks: a chunk whose buffers are all back goes home now and
        // is let go with the pool's idle chunks.
        final int merged = merges.ownerStopped();
        final int shared = small.ownerStopped();
        return merged + shared + descriptors.ownerStopped() + chains.ownerStopped() + chunks.ownerStopped();
    }

    /**
     * @return the allocator's name
     */
    public String name()
    {
        return name;
    }

    /**
     * @return the arena the allocator takes chunks from
     */
    public SlabArena arena()
    {
        return arena;
    }

    /**
     * @return counters of the chunk pool: {@code live} is chunks in use by this allocator's buffers,
     *         among them those it is carving small buffers from; each chunk taken is a hit or a miss
     */
    public PoolStats chunkStats()
    {
        return chunks.stats();
    }

    /**
     * @return counters of the small buffers of {@link #allocate(int)} and the chunks they share
     */
    public SmallBufferStats smallBufferStats()
    {
        return small.stats();
    }

    /**
     * @return counters of the descriptor pool: {@code live} is descriptors not yet released
     */
    public PoolStats descriptorStats()
    {
        return descriptors.stats();
    }

    /**
     * @return counters of the chain pool: {@code live} is chains not yet released
     */
    public PoolStats chainStats()
    {
        return chains.stats();
    }

    void recycle(final BufferDescriptor d)
    {
        descriptors.release(d);
    }

    void recycle(final BufferChain chain)
    {
        chains.release(chain);
    }

    private void checkOwner(final String operation)
    {
        final Thread current = Thread.currentThread();
        if (owner != current)
        {
            claim(current, operation);
        }
    }

    private void claim(final Thread current, final String operation)
    {
        if (OWNER.compareAndSet(this, null, current))
        {
            chunks.bindOwner(current);
            descriptors.bindOwner(current);
            chains.bindOwner(current);
            return;
        }
        final Thread o = (Thread)OWNER.getVolatile(this);
        if (o != current)
        {
            throw new IllegalStateException("buffer allocator '" + name + "' belongs to thread '" + o.getName() + "', but " +
                operation + " was called on '" + current.getName() + "'. Allocate from the current thread's own allocator; " +
                "releasing on any thread is fine.");
        }
    }
}
