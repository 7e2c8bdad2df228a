package io.millrace.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ScatteringByteChannel;

/**
 * A chain of {@link BufferDescriptor}s: a message made of pieces that are never copied into one
 * buffer. Append and prepend are O(1) (the links live in the descriptors); a gathering write hands
 * all pieces to the kernel in one call ({@code writev}), file regions go with {@code transferTo}
 * (sendfile), and a scattering read fills the tail and fresh chunks in one call ({@code readv}).
 *
 * <p>The usual caution for descriptor chains applies: a chain is good at the ends and at being written, and bad
 * at everything else. Finding a byte in the middle means walking descriptors, and splitting or
 * merging chains gets complicated fast. Copy small things (headers, short bodies) into one buffer;
 * chain large ones.
 *
 * <p>Ownership: the chain holds one reference of each descriptor in it; {@link #append} and
 * {@link #prepend} take over the caller's reference, {@link #removeFirst()} gives one back. The
 * chain's own count covers the whole chain: {@link #retain()} keeps every piece alive for a second
 * holder, and the last {@link #release()} releases every descriptor and recycles the chain. Methods
 * that change the chain's structure (append, prepend, removeFirst, writeTo, readFrom) require the
 * caller to be the only holder (count 1): a write consumes what it writes, which a second holder
 * would not expect. Give each consumer its own chain with {@link BufferAllocator#duplicate}.
 *
 * <p>Threading: the count may be retained and released on any thread; the structure belongs to
 * one thread at a time and travels with the request. Not thread-safe otherwise.
 */
public final class BufferChain extends RefCounted
{
    /** Buffers per gathering or scattering call; Linux allows 1024, and more rarely pays. */
    static final int MAX_IOV = 64;

    private final BufferAllocator home;
    /** Scratch array for gathering and scattering calls; made once per pooled chain. */
    final ByteBuffer[] iov = new ByteBuffer[MAX_IOV];
    BufferDescriptor head;
    BufferDescriptor tail;
    private int size;
    private long serial;

    BufferChain(final BufferAllocator home)
    {
        this.home = home;
    }

    void init(final long id, final MergeQueue merges)
    {
        serial = id;
        initRefCnt(merges);
    }

    /**
     * Adds a holder of the whole chain: every descriptor stays alive until the chain's last release.
     *
     * @return this chain
     */
    public BufferChain retain()
    {
        retainOnce();
        return this;
    }

    /**
     * Adds a descriptor at the end, in O(1). The chain takes over the caller's reference.
     *
     * @param d a live descriptor that is in no chain
     * @return this chain
     */
    public BufferChain append(final BufferDescriptor d)
    {
        checkExclusive("append()");
        checkJoinable(d);
        d.linked = true;
        d.prev = tail;
        if (tail == null)
        {
            head = d;
        }
        else
        {
            tail.next = d;
        }
        tail = d;
        size++;
        return this;
    }

    /**
     * Adds a descriptor at the start, in O(1). The chain takes over the caller's reference.
     *
     * @param d a live descriptor that is in no chain
     * @return this chain
     */
    public BufferChain prepend(final BufferDescriptor d)
    {
        checkExclusive("prepend()");
        checkJoinable(d);
        d.linked = true;
        d.next = head;
        if (head == null)
        {
            tail = d;
        }
        else
        {
            head.prev = d;
        }
        head = d;
        size++;
        return this;
    }

    /**
     * Moves every descriptor of {@code other} to the end of this chain, in O(1). {@code other} is
     * left empty but alive: its holder still releases it.
     *
     * @param other another chain this caller holds alone
     * @return this chain
     */
    public BufferChain append(final BufferChain other)
    {
        checkExclusive("append()");
        other.checkExclusive("append() of it to another chain");
        if (other == this)
        {
            throw new IllegalArgumentException("cannot append " + describe() + " to itself");
        }
        if (other.head == null)
        {
            return this;
        }
        if (tail == null)
        {
            head = other.head;
        }
        else
        {
            tail.next = other.head;
            other.head.prev = tail;
        }
        tail = other.tail;
        size += other.size;
        other.head = null;
        other.tail = null;
        other.size = 0;
        return this;
    }

    /**
     * Unlinks the first descriptor and gives its reference to the caller.
     *
     * @return the former first descriptor, or null if the chain is empty
     */
    public BufferDescriptor removeFirst()
    {
        checkExclusive("removeFirst()");
        final BufferDescriptor d = head;
        if (d != null)
        {
            unlinkHead(d);
        }
        return d;
    }

    /**
     * @return the first descriptor, still owned by the chain; null if empty
     */
    public BufferDescriptor first()
    {
        ensureAccessible("first()");
        return head;
    }

    /**
     * @return the last descriptor, still owned by the chain; null if empty
     */
    public BufferDescriptor last()
    {
        ensureAccessible("last()");
        return tail;
    }

    /**
     * @return descriptors in the chain
     */
    public int size()
    {
        ensureAccessible("size()");
        return size;
    }

    /**
     * @return true if the chain holds no descriptor (a fully written chain is empty)
     */
    public boolean isEmpty()
    {
        ensureAccessible("isEmpty()");
        return head == null;
    }

    /**
     * @return the sum of the descriptors' lengths; walks the chain, O(size)
     */
    public long readableBytes()
    {
        ensureAccessible("readableBytes()");
        long total = 0;
        for (BufferDescriptor d = head; d != null; d = d.next)
        {
            total += d.rawLength();
        }
        return total;
    }

    /**
     * Records a hint on every descriptor, for leak reports (see {@link BufferDescriptor#touch}).
     *
     * @param hint what is happening to the chain
     * @return this chain
     */
    public BufferChain touch(final Object hint)
    {
        for (BufferDescriptor d = head; d != null; d = d.next)
        {
            d.touch(hint);
        }
        return this;
    }

    /**
     * Writes as much of the chain as {@code out} takes, consuming it: runs of memory descriptors go
     * in one gathering write each, file regions with {@code FileChannel.transferTo}. Fully written
     * descriptors are released and unlinked, a partly written one keeps its unwritten rest, so the
     * next call resumes exactly where this one stopped. Returns when the chain is empty or the
     * channel took less than it was offered (a non-blocking socket whose buffer is full: wait for
     * it to become writable and call again).
     *
     * @param out where to write
     * @return bytes written by this call
     * @throws IOException from the channel; the chain then still holds everything not written
     */
    public long writeTo(final GatheringByteChannel out) throws IOException
    {
        checkExclusive("writeTo()");
        return ChainIo.write(this, out);
    }

    /**
     * Reads from {@code in} into the chain with one scattering read: first into the room left in
     * the last descriptor, then into fresh descriptors from {@code allocator}, which are appended.
     * Fresh descriptors that received nothing are released before returning.
     *
     * @param in        where to read from
     * @param allocator the current thread's allocator, for fresh chunks
     * @param maxBytes  the most bytes to read
     * @return bytes read, 0 if none were available, -1 at end of stream
     * @throws IOException from the channel
     * @throws SlabExhaustedException if there was no room at all and no chunk to be had
     */
    public long readFrom(final ScatteringByteChannel in, final BufferAllocator allocator, final int maxBytes) throws IOException
    {
        checkExclusive("readFrom()");
        if (maxBytes <= 0)
        {
            throw new IllegalArgumentException("maxBytes must be positive, was " + maxBytes);
        }
        return ChainIo.read(this, in, allocator, maxBytes);
    }

    @Override
    public String toString()
    {
        return describe() + "[" + size + " descriptors, refCnt " + refCnt() + "]";
    }

    private void checkExclusive(final String operation)
    {
        final int count = refCnt();
        if (count != 1)
        {
            ensureAccessible(operation);
            throw new IllegalStateException(describe() + " is shared (refCnt " + count + "): " + operation + " changes the " +
                "chain, so only its sole holder may call it. Give each consumer its own chain with BufferAllocator.duplicate().");
        }
    }

    private void checkJoinable(final BufferDescriptor d)
    {
        d.ensureAccessible("adding it to a chain");
        if (d.linked)
        {
            throw new IllegalArgumentException(d.describe() + " is already in a chain, and a descriptor has one pair of links. " +
                "Put a slice of it (BufferAllocator.slice) in the second chain.");
        }
    }

    private void unlinkHead(final BufferDescriptor d)
    {
        head = d.next;
        if (head == null)
        {
            tail = null;
        }
        else
        {
            head.prev = null;
        }
        d.next = null;
        d.linked = false;
        size--;
    }

    void releaseHead(final BufferDescriptor d)
    {
        unlinkHead(d);
        d.release();
    }

    /** Unlinks and releases the last descriptor. */
    void releaseTail()
    {
        final BufferDescriptor d = tail;
        tail = d.prev;
        if (tail == null)
        {
            head = null;
        }
        else
        {
            tail.next = null;
        }
        d.prev = null;
        d.linked = false;
        size--;
        d.release();
    }

    void clearIov(final int count)
    {
        for (int i = 0; i < count; i++)
        {
            iov[i] = null;
        }
    }

    @Override
    void deallocate()
    {
        BufferDescriptor d = head;
        head = null;
        tail = null;
        size = 0;
        while (d != null)
        {
            final BufferDescriptor next = d.next;
            d.prev = null;
            d.next = null;
            d.linked = false;
            d.release();
            d = next;
        }
        home.recycle(this);
    }

    @Override
    String describe()
    {
        return "chain " + home.name() + "#" + serial;
    }
}
