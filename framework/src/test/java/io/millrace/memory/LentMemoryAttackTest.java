package io.millrace.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Attacks on lent memory ({@link BufferAllocator#wrap}): every descriptor of it shares one
 * ByteBuffer, unlike chunk descriptors, each of which has a view of its own.
 */
@Timeout(10)
class LentMemoryAttackTest
{
    private static ByteBuffer memory()
    {
        return ByteBuffer.allocateDirect(16).put("0123456789abcdef".getBytes(StandardCharsets.US_ASCII)).flip().asReadOnlyBuffer();
    }

    /** A duplicate of a chain holding lent memory: both copies written whole, the lender told once after both. */
    @Test
    void aDuplicatedChainWithLentMemoryIsWrittenTwiceIntactAndTheLenderToldOnce() throws IOException
    {
        final BufferAllocator alloc = SlabArena.builder().chunkSize(4096).slabSize(1 << 16).maxSlabs(2)
            .leakDetector(LeakDetector.paranoid()).build().newAllocator("a", Thread.currentThread());
        final int[] told = new int[1];
        final ByteBuffer memory = memory();
        final BufferChain chain = alloc.newChain();
        chain.append(alloc.allocate().putAscii("<"));
        chain.append(alloc.wrap(memory, 2, 8, () -> told[0]++));
        chain.append(alloc.wrap(memory, 0, 3, () -> told[0]++));
        final BufferChain copy = alloc.duplicate(chain);
        final BufferChain copyOfCopy = alloc.duplicate(copy);
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        chain.writeTo(new RecordingSink(out, Integer.MAX_VALUE, () -> { }));
        chain.release();
        assertEquals(0, told[0], "the copies still hold the memory");
        copy.writeTo(new RecordingSink(out, Integer.MAX_VALUE, () -> { }));
        copy.release();
        assertEquals(0, told[0], "the copy of the copy holds the memory");
        copyOfCopy.writeTo(new RecordingSink(out, Integer.MAX_VALUE, () -> { })); // written descriptors are released: the last holders
        assertEquals(2, told[0], "each lent descriptor's owner told once");
        copyOfCopy.release();
        assertEquals(2, told[0]);
        assertEquals("<23456789012".repeat(3), out.toString(StandardCharsets.US_ASCII));
    }

    /** Lent memory: two descriptors' readableBuffer() views must be independent, as every other descriptor's are. */
    @Test
    void readableBuffersOfTwoSlicesOfLentMemoryAreIndependent()
    {
        final BufferAllocator alloc = SlabArena.builder().chunkSize(4096).slabSize(1 << 16).maxSlabs(2).leakDetector(LeakDetector.paranoid()).build()
            .newAllocator("a", Thread.currentThread());
        final ByteBuffer memory = ByteBuffer.allocateDirect(16).put("0123456789abcdef".getBytes(StandardCharsets.US_ASCII))
            .flip().asReadOnlyBuffer();
        final BufferDescriptor lent = alloc.wrap(memory, 0, 16, null);
        final BufferChain copy = alloc.newChain().append(alloc.slice(lent, 0, 4)).append(alloc.slice(lent, 8, 4));
        try
        {
            final ByteBuffer first = copy.first().readableBuffer();
            final ByteBuffer second = copy.last().readableBuffer();
            final byte[] a = new byte[first.remaining()];
            first.get(a);
            final byte[] b = new byte[second.remaining()];
            second.get(b);
            assertEquals("0123|89ab", new String(a, StandardCharsets.US_ASCII) + "|" + new String(b, StandardCharsets.US_ASCII),
                "each descriptor's own view (a GatheringByteChannel.write of both views, or SSLEngine.wrap of them, relies on it)");
        }
        finally
        {
            copy.release();
            lent.release();
        }
    }

    /** A slice made on another thread's allocator (slice() takes a source "from any allocator") and written there. */
    @Test
    void aSliceOfLentMemoryWrittenOnAnotherThreadDoesNotMoveTheOwnersView() throws Exception
    {
        final SlabArena arena = SlabArena.builder().chunkSize(4096).slabSize(1 << 16).maxSlabs(2).leakDetector(LeakDetector.paranoid()).build();
        final BufferAllocator mine = arena.newAllocator("mine", Thread.currentThread());
        final ByteBuffer memory = ByteBuffer.allocateDirect(16).put("0123456789abcdef".getBytes(StandardCharsets.US_ASCII))
            .flip().asReadOnlyBuffer();
        final BufferDescriptor lent = mine.wrap(memory, 0, 4, null);
        final BufferChain chain = mine.newChain().append(mine.wrap(memory, 0, 4, null));
        final ByteArrayOutputStream theirs = new ByteArrayOutputStream();
        final ByteArrayOutputStream ours = new ByteArrayOutputStream();
        final Thread other = new Thread(() ->
        {
            final BufferAllocator them = arena.newAllocator("them", Thread.currentThread());
            final BufferChain c = them.newChain().append(them.slice(lent, 2, 2));
            try
            {
                c.writeTo(new RecordingSink(theirs, Integer.MAX_VALUE, () -> { }));
            }
            catch (final IOException e)
            {
                throw new RuntimeException(e);
            }
            finally
            {
                c.release();
            }
        });
        // Our write is under way (its view set to 0..4) when the other thread writes its slice.
        chain.writeTo(new RecordingSink(ours, Integer.MAX_VALUE, () ->
        {
            other.start();
            try
            {
                other.join();
            }
            catch (final InterruptedException e)
            {
                throw new RuntimeException(e);
            }
        }));
        chain.release();
        lent.release();
        assertEquals("23", theirs.toString(StandardCharsets.US_ASCII));
        assertEquals("0123", ours.toString(StandardCharsets.US_ASCII), "our bytes, not what the other thread left in the shared view");
    }
}
