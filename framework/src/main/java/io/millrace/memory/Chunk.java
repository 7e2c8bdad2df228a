package io.millrace.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

/**
 * A fixed-size piece of a slab: the memory behind one or more {@link BufferDescriptor}s. Its
 * reference count is the number of descriptors that point into it (an allocation makes one, each
 * slice one more); when the last of them is released the chunk goes back to the lookaside pool of
 * the allocator that handed it out, and from there, when swept, to the arena's reserve.
 *
 * <p>Each descriptor needs its own {@link ByteBuffer} view (position and limit are per view), and
 * a view cannot be pointed at other memory, so the chunk keeps up to {@value #VIEW_SLOTS} views of
 * itself for the descriptors that use it at the same time; they are made once per chunk and
 * reused, so allocating and slicing cost no garbage in the steady state. A descriptor takes a
 * slot with a CAS on {@link #viewMask} and gives it back with an atomic and-not; those two atomics
 * also hand the slot's view from one descriptor to the next. The common case, one descriptor on a
 * chunk its owner has just taken from the pool and gives back before anyone else uses it, needs
 * neither: {@link #takeFirstViewSlot()} and {@link #giveBackViewSlot(int)} see that nobody else can
 * touch the mask and use plain stores. Only a ninth simultaneous descriptor
 * on one chunk gets a view of its own.
 *
 * <p>A chunk carved into small buffers by {@link BufferAllocator#allocate(int)} may hold hundreds of
 * them at once, too many for the eight shared slots. Those buffers never overlap and each starts at
 * a multiple of {@value #SLOT_GRAIN} bytes, so each gets the view kept for its start offset
 * ({@link #slotView(int)}), made on first use and reused by whichever small buffer starts there
 * next. Only the allocator that carves the chunk touches that array (a chunk is carved by one
 * allocator at a time, and passes between allocators through the pools' queues, which publish it);
 * the arena drops the array when the chunk comes back to its reserve, so only chunks in use or idle
 * in an allocator's pool keep those views.
 *
 * <p>Threading: {@link #memory} is read and written only with absolute (index-based) operations,
 * which change no buffer state, so descriptors on different threads may use one chunk. {@link #home}
 * is written by the allocating thread before the count is set (a release store) and read by the
 * thread whose release takes the count to zero.
 */
final class Chunk extends RefCounted
{
    static final int VIEW_SLOTS = 8;
    /** The smallest size class of {@link BufferAllocator#allocate(int)}: small buffers start at multiples of it. */
    static final int SLOT_GRAIN = 64;
    static final int SLOT_GRAIN_SHIFT = 6;
    private static final int ALL_SLOTS = (1 << VIEW_SLOTS) - 1;
    private static final VarHandle VIEW_MASK;

    static
    {
        try
        {
            VIEW_MASK = MethodHandles.lookup().findVarHandle(Chunk.class, "viewMask", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /** The chunk's memory: position 0, limit = capacity; never moved. */
    final ByteBuffer memory;
    final int slab;
    final int index;
    /** The pool the chunk returns to when its count reaches zero. */
    LookasidePool<Chunk> home;

    private final ByteBuffer[] views = new ByteBuffer[VIEW_SLOTS];
    /** Views of small buffers by start offset / {@link #SLOT_GRAIN}; made lazily by the carving allocator. */
    private ByteBuffer[] slotViews;
    @SuppressWarnings("unused")
    private volatile int viewMask;

    Chunk(final ByteBuffer memory, final int slab, final int index)
    {
        this.memory = memory;
        this.slab = slab;
        this.index = index;
    }

    int capacity()
    {
        return memory.capacity();
    }

    /**
     * @return a free view slot, or -1 if all are taken
     */
    int takeViewSlot()
    {
        for (;;)
        {
            final int mask = (int)VIEW_MASK.getVolatile(this);
            if (mask == ALL_SLOTS)
            {
                return -1;
            }
            final int slot = Integer.numberOfTrailingZeros(~mask);
            if (VIEW_MASK.compareAndSet(this, mask, mask | (1 << slot)))
            {
                return slot;
            }
        }
    }

    /**
     * @param slot a slot taken with {@link #takeViewSlot()}, or -1
     * @return the slot's view (made on first use), or a new view of its own for -1
     */
    ByteBuffer view(final int slot)
    {
        if (slot < 0)
        {
            return memory.duplicate();
        }
        ByteBuffer view = views[slot];
        if (view == null)
        {
            view = memory.duplicate();
            views[slot] = view;
        }
        return view;
    }

    /**
     * The view of the small buffer that starts at {@code offset}, for the allocator carving this
     * chunk: made on first use, then reused (views cover the whole chunk; the descriptor sets
     * position and limit on each use, as for the shared slots).
     *
     * @param offset a multiple of {@link #SLOT_GRAIN}
     */
    ByteBuffer slotView(final int offset)
    {
        ByteBuffer[] all = slotViews;
        if (all == null)
        {
            all = new ByteBuffer[memory.capacity() >>> SLOT_GRAIN_SHIFT];
            slotViews = all;
        }
        final int i = offset >>> SLOT_GRAIN_SHIFT;
        ByteBuffer view = all[i];
        if (view == null)
        {
            view = memory.duplicate();
            all[i] = view;
        }
        return view;
    }

    /** The chunk goes back to the arena's reserve: its small-buffer views go to the garbage collector. */
    void dropSlotViews()
    {
        slotViews = null;
    }

    void giveBackViewSlot(final int slot)
    {
        if (slot >= 0)
        {
            if (heldOnlyByOwnerOnce())
            {
                // The caller's descriptor holds the chunk's only count, on the owner: no other descriptor
                // exists to touch the mask, so a plain update will do (the common read buffer's case).
                VIEW_MASK.setRelease(this, (int)VIEW_MASK.getOpaque(this) & ~(1 << slot));
            }
            else
            {
                VIEW_MASK.getAndBitwiseAnd(this, ~(1 << slot));
            }
        }
    }

    /**
     * The first view slot of a chunk its owner has just taken from the pool and counted
     * ({@code initRefCnt}): every descriptor of its previous life gave its slot back before the
     * chunk's last release, so the mask is 0, and nobody else can see the chunk yet. No CAS.
     */
    int takeFirstViewSlot()
    {
        VIEW_MASK.setRelease(this, 1);
        return 0;
    }

    @Override
    void deallocate()
    {
        home.release(this);
    }

    @Override
    String describe()
    {
        return "chunk " + index + " of slab " + slab;
    }
}
