package io.millrace.memory;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A buffer descriptor: the backing memory and its capacity, the
 * offset and length of the data in it, links to the previous and next descriptor of its chain, and
 * a reference count. Code passes descriptors (and counts references) instead of copying bytes.
 *
 * <p>Three kinds: a <em>memory</em> descriptor points into a {@link Chunk} of a slab (see
 * {@link BufferAllocator#allocate()} and {@link BufferAllocator#slice}); a <em>file region</em>
 * names bytes of a file that are sent with {@code transferTo} and never read into the JVM
 * ({@link BufferAllocator#fileRegion}); <em>lent memory</em> points read-only into a buffer that
 * someone else keeps, such as a small file a cache holds in memory ({@link BufferAllocator#wrap}).
 * Several descriptors may point into one chunk: the chunk has a count of its own, and goes back to
 * its pool when the last of them is released.
 *
 * <p>Ownership: {@link BufferAllocator#allocate()} returns a descriptor with a count of 1 that the
 * caller owns. Whoever owns a reference either releases it or hands it on (to a chain, to another
 * stage) and stops using it; a second holder calls {@link #retain()} first. Appending a descriptor
 * to a {@link BufferChain} hands the caller's reference to the chain.
 *
 * <p>Threading: the reference count may be retained and released on any thread; on the thread of
 * the allocator that made it, it costs no atomic instruction (see {@link RefCounted}). Everything
 * else (offset, length, links, the view) belongs to one thread at a time, and passes between threads
 * with the request that carries it. After the last release the descriptor goes back to the pool of
 * the allocator that made it, on that allocator's thread: a last release elsewhere hands it over
 * through the allocator's merge queue, drained on its next allocation or idle turn.
 */
public final class BufferDescriptor extends RefCounted
{
    private final BufferAllocator home;

    Chunk chunk;
    FileChannel file;
    /** For a file region: told once, after the last release, that the file is no longer used; or null. */
    FileRegionOwner regionOwner;
    /** For a slice of an owned file region: the region it keeps from being released first; or null. */
    BufferDescriptor parent;
    private ByteBuffer view;
    private int viewSlot = -1;
    private long offset;
    private long length;
    /** The end this descriptor may write up to: the chunk's capacity, a small buffer's slot end, or a slice's own end. */
    private long limit;
    /** What {@link #capacity()} reports: the chunk's size, a small buffer's slot size, or a slice's source's. */
    private int capacity;

    BufferDescriptor prev;
    BufferDescriptor next;
    /** True while in a chain; a descriptor has one pair of links, so it is in at most one. */
    boolean linked;

    private long serial;
    LeakTracker leak;

    BufferDescriptor(final BufferAllocator home)
    {
        this.home = home;
    }

    void bindChunk(final Chunk c, final long start, final long bytes, final long end, final int size, final long id,
        final MergeQueue merges, final boolean freshChunk)
    {
        chunk = c;
        viewSlot = freshChunk ? c.takeFirstViewSlot() : c.takeViewSlot();
        view = c.view(viewSlot);
        offset = start;
        length = bytes;
        limit = end;
        capacity = size;
        serial = id;
        initRefCnt(merges);
    }

    /** A small buffer: {@code size} bytes of a shared chunk from {@code start}, with the view kept for that offset. */
    void bindSlot(final Chunk c, final int start, final int size, final ByteBuffer slotView, final long id,
        final MergeQueue merges)
    {
        chunk = c;
        viewSlot = -1;          // not one of the chunk's eight shared views: nothing to give back
        view = slotView;
        offset = start;
        length = 0;
        limit = start + size;
        capacity = size;
        serial = id;
        initRefCnt(merges);
    }

    /** Lent memory (see {@link BufferAllocator#wrap}): read-only, its view shared with every descriptor of that memory. */
    void bindMemory(final ByteBuffer memory, final int start, final int count, final long id, final MergeQueue merges)
    {
        view = memory;
        viewSlot = -1;
        offset = start;
        length = count;
        limit = start + count;
        capacity = 0;
        serial = id;
        initRefCnt(merges);
    }

    void bindFile(final FileChannel f, final long position, final long count, final long id, final MergeQueue merges)
    {
        file = f;
        offset = position;
        length = count;
        limit = position + count;
        serial = id;
        initRefCnt(merges);
    }

    /**
     * Adds a holder.
     *
     * @return this descriptor
     * @throws IllegalReferenceCountException if it was already released
     */
    public BufferDescriptor retain()
    {
        retainOnce();
        return this;
    }

    /**
     * Records where the buffer went, for the leak report. Does something only for a buffer the
     * {@link LeakDetector} tracks at {@link LeakDetector.Level#PARANOID}; free otherwise.
     *
     * @param hint what is happening to it, e.g. the stage's name
     * @return this descriptor
     */
    public BufferDescriptor touch(final Object hint)
    {
        final LeakTracker tracker = leak;
        if (tracker != null)
        {
            tracker.record(hint);
        }
        return this;
    }

    /**
     * @return true for a file region, false for a memory descriptor
     */
    public boolean isFileRegion()
    {
        return file != null;
    }

    /**
     * @return true for lent memory ({@link BufferAllocator#wrap}): read-only bytes its lender keeps
     */
    public boolean isWrapped()
    {
        return chunk == null && file == null && view != null;
    }

    /**
     * @return the bytes the buffer was allocated with: a chunk for {@link BufferAllocator#allocate()},
     *         the size class (a power of two of at least the bytes asked for) for
     *         {@link BufferAllocator#allocate(int)}, the source's capacity for a slice; 0 for a file
     *         region, which has none
     */
    public int capacity()
    {
        ensureAccessible("capacity()");
        return chunk == null ? 0 : capacity;
    }

    /**
     * @return where the data starts: in the chunk, or for a file region in the file
     */
    public long offset()
    {
        ensureAccessible("offset()");
        return offset;
    }

    /**
     * @return bytes of data
     */
    public long length()
    {
        ensureAccessible("length()");
        return length;
    }

    /**
     * @return bytes that the {@code put} methods can still add: 0 for slices and file regions
     */
    public int writableBytes()
    {
        ensureAccessible("writableBytes()");
        return (int)(limit - offset - length);
    }

    /**
     * Copies bytes from {@code src} to the end of the data, as many as fit.
     *
     * @param src the bytes; its position advances by the number copied
     * @return bytes copied
     */
    public int put(final ByteBuffer src)
    {
        ensureAccessible("put()");
        if (chunk == null)
        {
            throw notWritable();
        }
        final int end = (int)(offset + length);
        final int n = (int)Math.min(src.remaining(), limit - end);
        chunk.memory.put(end, src, src.position(), n);
        src.position(src.position() + n);
        length += n;
        return n;
    }

    /**
     * Copies bytes from an array to the end of the data, as many as fit.
     *
     * @param src    the bytes
     * @param index  where they start in {@code src}
     * @param length how many to copy at most
     * @return bytes copied
     */
    public int put(final byte[] src, final int index, final int length)
    {
        ensureAccessible("put()");
        if (chunk == null)
        {
            throw notWritable();
        }
        java.util.Objects.checkFromIndexSize(index, length, src.length);
        final int end = (int)(offset + this.length);
        final int n = (int)Math.min(length, limit - end);
        chunk.memory.put(end, src, index, n);
        this.length += n;
        return n;
    }

    /**
     * Appends all of {@code src}, or nothing: a convenience for small replies, which fails rather
     * than cut them short.
     *
     * @param src the bytes
     * @return this descriptor, to chain further puts
     * @throws IndexOutOfBoundsException if {@code src} is longer than {@link #writableBytes()};
     *                                   nothing is appended then
     */
    public BufferDescriptor put(final byte[] src)
    {
        final int end = checkRoom(false, src.length);
        chunk.memory.put(end, src, 0, src.length);
        length += src.length;
        return this;
    }

    /**
     * Appends the characters of {@code text} as US-ASCII bytes, one byte per character, or nothing:
     * for status lines, header fields, short text replies. Allocates nothing (no encoder, no array).
     *
     * @param text characters from U+0000 to U+007F
     * @return this descriptor, to chain further puts
     * @throws IndexOutOfBoundsException if {@code text} is longer than {@link #writableBytes()}
     * @throws IllegalArgumentException  if a character is not ASCII; nothing is appended then
     */
    public BufferDescriptor putAscii(final CharSequence text)
    {
        final int n = text.length();
        final int end = checkRoom(true, n);
        final ByteBuffer memory = chunk.memory;
        for (int i = 0; i < n; i++)
        {
            final char c = text.charAt(i);
            if (c > 0x7F)
            {
                // The bytes written so far lie past the data's end: not appended, as promised.
                throw new IllegalArgumentException("putAscii() into " + describe() + ": character " + i + " is U+" +
                    String.format("%04X", (int)c) + ", not ASCII. Encode other text yourself (String.getBytes(UTF_8)) " +
                    "and put(byte[]) the bytes.");
            }
            memory.put(end + i, (byte)c);
        }
        length += n;
        return this;
    }

    /**
     * Drops {@code n} bytes from the front of the data (they have been consumed).
     *
     * @param n bytes, at most {@link #length()}
     */
    public void skip(final long n)
    {
        ensureAccessible("skip()");
        if (n < 0 || n > length)
        {
            throw new IndexOutOfBoundsException("skip(" + n + ") on " + describe() + " of length " + length);
        }
        offset += n;
        length -= n;
    }

    /**
     * The data as a {@link ByteBuffer}, without copying: position = start of the data, limit = its
     * end. The buffer is this descriptor's own view (made once per chunk slot, not per call; for
     * lent memory a new read-only one per call): moving its position does not consume the
     * descriptor, the next call resets it, and it must not be used after the descriptor is released.
     *
     * @return the view
     */
    public ByteBuffer readableBuffer()
    {
        ensureAccessible("readableBuffer()");
        if (file != null)
        {
            throw new UnsupportedOperationException(describe() + " is a file region: send it with BufferChain.writeTo");
        }
        if (chunk == null)
        {
            // Lent memory shares its view with the other descriptors of the same buffer: hand out one of
            // the caller's own, so that two of them can be held (and gathered) at once.
            return view.duplicate().limit((int)(offset + length)).position((int)offset);
        }
        return readableView();
    }

    /**
     * @return the next descriptor of the chain, or null at its end or when not in a chain
     */
    public BufferDescriptor next()
    {
        return next;
    }

    /**
     * @return the previous descriptor of the chain, or null at its start or when not in a chain
     */
    public BufferDescriptor prev()
    {
        return prev;
    }

    @Override
    public String toString()
    {
        return describe() + "[offset " + offset + ", length " + length + ", refCnt " + refCnt() + "]";
    }

    /**
     * Checks that {@code n} more bytes fit; returns where they go in the chunk. The operation's name
     * is made only for a message: this is on every put.
     */
    private int checkRoom(final boolean ascii, final int n)
    {
        ensureAccessible(ascii ? "putAscii()" : "put(byte[])");
        if (chunk == null)
        {
            throw notWritable();
        }
        final long room = limit - offset - length;
        if (n > room)
        {
            final String operation = ascii ? "putAscii() of " + n + " characters" : "put(byte[" + n + "])";
            throw new IndexOutOfBoundsException(operation + " into " + describe() + ": only " + room + " bytes are free " +
                "(writableBytes(); a slice has none), so nothing was appended. Allocate with allocate(minBytes) for all of it, " +
                "or go on in a further buffer of a BufferChain.");
        }
        return (int)(offset + length);
    }

    private UnsupportedOperationException notWritable()
    {
        return new UnsupportedOperationException(describe() + (file != null ? " is a file region: its bytes live in the file"
            : " is lent memory (BufferAllocator.wrap): read-only; allocate() a buffer to write into"));
    }

    /** @return for lent memory the buffer it shares with the other descriptors of that memory, else null */
    ByteBuffer sharedView()
    {
        return chunk == null && file == null ? view : null;
    }

    ByteBuffer readableView()
    {
        final ByteBuffer v = view;
        v.limit((int)(offset + length)).position((int)offset);
        return v;
    }

    /** A view of the next {@code max} writable bytes, for a scattering read. */
    ByteBuffer writableView(final int max)
    {
        final int end = (int)(offset + length);
        final ByteBuffer v = view;
        v.limit(end + max).position(end);
        return v;
    }

    /** After a scattering read into {@link #writableView(int)}: the bytes it received become data. */
    void commitRead()
    {
        length = view.position() - offset;
    }

    /** Consumes {@code n} bytes from the front after a write; no checks, the chain has made them. */
    void advance(final long n)
    {
        offset += n;
        length -= n;
    }

    long rawLength()
    {
        return length;
    }

    long rawOffset()
    {
        return offset;
    }

    int viewSlot()
    {
        return viewSlot;
    }

    String allocatorName()
    {
        return home.name();
    }

    long serial()
    {
        return serial;
    }

    @Override
    void checkLastRelease()
    {
        if (linked)
        {
            throw new IllegalStateException(describe() + " is still in a chain, which holds that reference: release() " +
                "the chain (or removeFirst() it) instead of the descriptor");
        }
    }

    @Override
    void deallocate()
    {
        final LeakTracker tracker = leak;
        if (tracker != null)
        {
            leak = null;
            tracker.close();
        }
        final Chunk c = chunk;
        if (c != null)
        {
            chunk = null;
            view = null;
            c.giveBackViewSlot(viewSlot);
            viewSlot = -1;
            c.release();
        }
        view = null;
        final FileRegionOwner regionDone = regionOwner;
        final BufferDescriptor held = parent;
        regionOwner = null;
        parent = null;
        file = null;
        offset = 0;
        length = 0;
        limit = 0;
        capacity = 0;
        prev = null;
        next = null;
        linked = false;
        home.recycle(this);
        // Last, once this descriptor is back in its pool: the owner may close the file now.
        if (held != null)
        {
            held.release();
        }
        if (regionDone != null)
        {
            regionDone.regionSent();
        }
    }

    @Override
    String describe()
    {
        return (file != null ? "file region " : chunk == null && view != null ? "lent memory " : "buffer ") + home.name() + "#" +
            serial;
    }
}
