package io.millrace.memory;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ScatteringByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lent memory ({@link BufferAllocator#wrap}): read-only descriptors into a buffer someone else keeps,
 * written by the gathering write like any memory, the lender told once after the last release.
 */
class LentMemoryTest
{
    private static final byte[] TEXT = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private BufferAllocator alloc;
    private ByteBuffer memory;
    private int told;

    @BeforeEach
    void setUp()
    {
        alloc = SlabArena.builder().chunkSize(4096).slabSize(1 << 16).maxSlabs(4).leakDetector(LeakDetector.paranoid())
            .build().newAllocator("w0", Thread.currentThread());
        memory = ByteBuffer.allocateDirect(TEXT.length).put(TEXT).flip().asReadOnlyBuffer();
    }

    @Test
    void aHeadAndLentBytesLeaveInOneGatheringWriteAndTheLenderIsToldOnce() throws IOException
    {
        final BufferChain chain = alloc.newChain();
        final BufferDescriptor head = alloc.allocate();
        head.putAscii("HEAD:");
        chain.append(head);
        chain.append(alloc.wrap(memory, 2, 5, () -> told++));
        final RecordingSink sink = new RecordingSink(Integer.MAX_VALUE);
        assertEquals(10, chain.writeTo(sink));
        assertEquals("HEAD:23456", sink.text());
        assertEquals(1, sink.calls, "one write for the head and the body");
        assertEquals(1, told);
        chain.release();
        assertEquals(1, told);
        assertEquals((byte)'2', memory.get(2), "the lent memory is read, not consumed");
    }

    /** Fails without the check that ends a batch before a view it already lists (both would send 6..9). */
    @Test
    void twoRangesOfTheSameMemoryInOneChainAreBothSentIntact() throws IOException
    {
        final BufferChain chain = alloc.newChain();
        chain.append(alloc.wrap(memory, 0, 4, () -> told++));
        chain.append(alloc.wrap(memory, 6, 4, () -> told++));
        chain.append(alloc.wrap(memory, 12, 4, () -> told++));
        final RecordingSink sink = new RecordingSink(Integer.MAX_VALUE);
        assertEquals(12, chain.writeTo(sink));
        assertEquals("0123" + "6789" + "cdef", sink.text());
        assertEquals(3, told);
        chain.release();
    }

    @Test
    void partialWritesOfSharedMemoryResumeWhereTheyStopped() throws IOException
    {
        final BufferChain chain = alloc.newChain();
        for (int i = 0; i < 4; i++)
        {
            final BufferDescriptor sep = alloc.allocate();
            sep.putAscii("|");
            chain.append(sep);
            chain.append(alloc.wrap(memory, i, 10, () -> told++));
        }
        final RecordingSink sink = new RecordingSink(3);
        long total = 0;
        for (int rounds = 0; rounds < 100 && chain.readableBytes() > 0; rounds++)
        {
            total += chain.writeTo(sink);
        }
        assertEquals(44, total);
        assertEquals("|0123456789|123456789a|23456789ab|3456789abc", sink.text());
        assertEquals(4, told);
        chain.release();
    }

    @Test
    void droppedUnsentTheLenderIsToldOnce()
    {
        final BufferChain chain = alloc.newChain();
        chain.append(alloc.wrap(memory, 0, 16, () -> told++));
        chain.release();
        assertEquals(1, told);
    }

    @Test
    void aSliceHoldsTheLentMemoryUntilItIsReleasedTooAndReadsTheSameBytes()
    {
        final BufferDescriptor lent = alloc.wrap(memory, 4, 8, () -> told++);
        final BufferDescriptor slice = alloc.slice(lent, 2, 3);
        final BufferDescriptor sliceOfSlice = alloc.slice(slice, 1, 2);
        assertTrue(slice.isWrapped());
        lent.release();
        assertEquals(0, told, "the slices still use the memory");
        final ByteBuffer view = slice.readableBuffer();
        final byte[] bytes = new byte[view.remaining()];
        view.get(bytes);
        assertEquals("678", new String(bytes, StandardCharsets.US_ASCII));
        slice.release();
        assertEquals(0, told);
        sliceOfSlice.release();
        assertEquals(1, told);
    }

    @Test
    void lentMemoryIsReadOnlyWithAMessageThatSaysWhatToDo()
    {
        final BufferDescriptor lent = alloc.wrap(memory, 0, 4, null);
        assertTrue(lent.isWrapped());
        assertFalse(lent.isFileRegion());
        assertEquals(0, lent.writableBytes());
        assertEquals(0, lent.capacity());
        final UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
            () -> lent.put(new byte[] {1}));
        assertTrue(e.getMessage().contains("read-only") && e.getMessage().contains("allocate()"), e.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> lent.putAscii("x"));
        assertThrows(UnsupportedOperationException.class, () -> lent.put(ByteBuffer.allocate(1)));
        lent.release();
        assertThrows(IllegalReferenceCountException.class, lent::length);
    }

    @Test
    void aReadAfterLentMemoryGoesIntoFreshBuffersNotIntoIt() throws IOException
    {
        final BufferChain chain = alloc.newChain();
        chain.append(alloc.wrap(memory, 0, 4, () -> told++));
        final ScatteringByteChannel in = new Source("xyz");
        assertEquals(3, chain.readFrom(in, alloc, 1024));
        assertEquals(7, chain.readableBytes());
        final RecordingSink sink = new RecordingSink(Integer.MAX_VALUE);
        chain.writeTo(sink);
        assertEquals("0123xyz", sink.text());
        assertEquals('3', memory.get(3), "the lent memory was not written");
        chain.release();
        assertEquals(1, told);
    }

    @Test
    void bytesOutsideTheMemoryOrAnotherThreadAreRefused() throws InterruptedException
    {
        assertThrows(IndexOutOfBoundsException.class, () -> alloc.wrap(memory, 10, 7, null));
        assertThrows(IndexOutOfBoundsException.class, () -> alloc.wrap(memory, -1, 2, null));
        assertThrows(NullPointerException.class, () -> alloc.wrap(null, 0, 0, null));
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread other = new Thread(() ->
        {
            try
            {
                alloc.wrap(memory, 0, 1, null);
            }
            catch (final Throwable t)
            {
                failure.set(t);
            }
        });
        other.start();
        other.join();
        assertTrue(failure.get() instanceof IllegalStateException, String.valueOf(failure.get()));
    }

    private static final class Source implements ScatteringByteChannel
    {
        private final ByteBuffer bytes;

        Source(final String text)
        {
            bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public long read(final ByteBuffer[] dsts, final int offset, final int length)
        {
            long n = 0;
            for (int i = offset; i < offset + length && bytes.hasRemaining(); i++)
            {
                while (dsts[i].hasRemaining() && bytes.hasRemaining())
                {
                    dsts[i].put(bytes.get());
                    n++;
                }
            }
            return n == 0 && !bytes.hasRemaining() ? -1 : n;
        }

        @Override
        public long read(final ByteBuffer[] dsts)
        {
            return read(dsts, 0, dsts.length);
        }

        @Override
        public int read(final ByteBuffer dst)
        {
            return (int)read(new ByteBuffer[] {dst}, 0, 1);
        }

        @Override
        public boolean isOpen()
        {
            return true;
        }

        @Override
        public void close()
        {
        }
    }
}
