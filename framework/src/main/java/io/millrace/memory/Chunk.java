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
 * also hand the slot's view from one descriptor to the next. Only a ninth simultaneous descriptor
 * on one chunk gets a view of its own.
 *
 * <p>Threading: {@link #memory} is read and written only with absolute (index-based) operations,
 * which change no buffer state, so descriptors on different threads may use one chunk. {@link #home}
 * is written by the allocating thread before the count is set (a release store) and read by the
 * thread whose release takes the count to zero.
 */
final class Chunk extends RefCounted
{
    static final int VIEW_SLOTS = 8;
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

    void giveBackViewSlot(final int slot)
    {
        if (slot >= 0)
        {
            VIEW_MASK.getAndBitwiseAnd(this, ~(1 << slot));
        }
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
