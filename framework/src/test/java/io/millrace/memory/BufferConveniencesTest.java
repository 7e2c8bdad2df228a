package io.millrace.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BufferDescriptor#put(byte[])} and {@link BufferDescriptor#putAscii(CharSequence)}: all or
 * nothing, up to the exact end of a size class or a chunk and no further, without touching the
 * neighbouring slot; small buffers in chains, reads and slices; and misuse that fails at once with
 * a message naming the remedy.
 */
class BufferConveniencesTest
{
    private static final int CHUNK = 4096;

    private final SlabArena arena = SlabArena.builder()
        .chunkSize(CHUNK).slabSize(16 * CHUNK).maxSlabs(2).leakDetector(LeakDetector.paranoid())
        .build();
    private final BufferAllocator alloc = arena.newAllocator("c");

    static String string(final BufferDescriptor d)
    {
        return StandardCharsets.US_ASCII.decode(d.readableBuffer()).toString();
    }

    private static String repeat(final char c, final int n)
    {
        return String.valueOf(c).repeat(n);
    }

    @Test
    void putsChainAndFillASlotExactlyWithoutTouchingItsNeighbour()
    {
        final BufferDescriptor a = alloc.allocate(40);
        final BufferDescriptor b = alloc.allocate(40);
        assertSame(a.chunk, b.chunk);
        assertEquals(a.offset() + 64, b.offset(), "neighbouring slots");
        b.putAscii(repeat('b', 64));

        assertSame(a, a.putAscii("HTTP/1.1 200 OK\r\n").put(new byte[] {'x', 'y'}).putAscii(""));
        assertEquals("HTTP/1.1 200 OK\r\nxy", string(a));
        a.put(repeat('a', 64 - 19).getBytes(StandardCharsets.US_ASCII));
        assertEquals(0, a.writableBytes(), "filled to the exact end of its 64-byte slot");

        final IndexOutOfBoundsException full = assertThrows(IndexOutOfBoundsException.class, () -> a.put(new byte[] {1}));
        assertTrue(full.getMessage().contains("only 0 bytes are free") && full.getMessage().contains("allocate(minBytes)"),
            full.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> a.putAscii("!"));
        assertEquals(64, a.length(), "nothing appended by the failed puts");
        assertEquals(repeat('b', 64), string(b), "the neighbouring slot is untouched");
        a.release();
        b.release();
    }

    @Test
    void tooLongIsRefusedWholeNotCutShort()
    {
        final BufferDescriptor d = alloc.allocate(100).putAscii("head:");
        assertEquals(128 - 5, d.writableBytes());
        final byte[] tooLong = new byte[124];
        final IndexOutOfBoundsException ex = assertThrows(IndexOutOfBoundsException.class, () -> d.put(tooLong));
        assertTrue(ex.getMessage().contains("put(byte[124])") && ex.getMessage().contains("only 123 bytes are free"),
            ex.getMessage());
        assertEquals("head:", string(d));
        d.put(new byte[123]);
        assertEquals(128, d.length());
        d.release();
    }

    @Test
    void aWholeChunkFillsToItsLastByte()
    {
        final BufferDescriptor d = alloc.allocate(CHUNK);
        assertEquals(CHUNK, d.writableBytes());
        d.putAscii(repeat('z', CHUNK - 1)).put(new byte[] {'!'});
        assertEquals(CHUNK, d.length());
        assertThrows(IndexOutOfBoundsException.class, () -> d.putAscii("?"));
        assertEquals('!', d.readableBuffer().get(CHUNK - 1));
        d.release();
    }

    @Test
    void nonAsciiIsRefusedAndNothingAppended()
    {
        final BufferDescriptor d = alloc.allocate(64).putAscii("ok ");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> d.putAscii("caf\u00e9"));
        assertTrue(ex.getMessage().contains("character 3 is U+00E9") && ex.getMessage().contains("put(byte[])"), ex.getMessage());
        assertEquals("ok ", string(d));
        d.putAscii(new StringBuilder("and more"));
        assertEquals("ok and more", string(d));
        d.release();
    }

    @Test
    void misuseFailsAtOnceNamingTheRemedy(@TempDir final Path dir) throws IOException
    {
        final IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> alloc.allocate(0));
        assertTrue(zero.getMessage().contains("at least 1 byte"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> alloc.allocate(-5));
        final IllegalArgumentException huge = assertThrows(IllegalArgumentException.class, () -> alloc.allocate(CHUNK + 1));
        assertTrue(huge.getMessage().contains("BufferChain") && huge.getMessage().contains("chunkSize"), huge.getMessage());

        final BufferDescriptor d = alloc.allocate(10).putAscii("abc");
        final BufferDescriptor slice = alloc.slice(d);
        assertEquals(64, slice.capacity(), "a slice reports its source's capacity");
        final IndexOutOfBoundsException grow = assertThrows(IndexOutOfBoundsException.class, () -> slice.putAscii("d"));
        assertTrue(grow.getMessage().contains("a slice has none"), grow.getMessage());
        slice.release();
        d.release();
        assertThrows(IllegalReferenceCountException.class, () -> d.putAscii("late"));
        assertThrows(IllegalReferenceCountException.class, () -> d.put(new byte[1]));
        assertThrows(IllegalReferenceCountException.class, d::release);

        final Path file = Files.write(dir.resolve("f"), new byte[] {1, 2, 3});
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ))
        {
            final BufferDescriptor region = alloc.fileRegion(ch, 0, 3);
            assertThrows(UnsupportedOperationException.class, () -> region.putAscii("x"));
            region.release();
        }

        final AtomicReference<Throwable> thrown = new AtomicReference<>();
        final Thread other = new Thread(() ->
        {
            try
            {
                alloc.allocate(40);
            }
            catch (final Throwable t)
            {
                thrown.set(t);
            }
        }, "other");
        other.start();
        try
        {
            other.join();
        }
        catch (final InterruptedException ex)
        {
            throw new AssertionError(ex);
        }
        assertTrue(thrown.get() instanceof IllegalStateException && thrown.get().getMessage().contains("own allocator"),
            String.valueOf(thrown.get()));
        assertEquals(0, alloc.descriptorStats().live());
    }

    @Test
    void smallBuffersAreWrittenGatheredAndReadIntoLikeAnyOther(@TempDir final Path dir) throws IOException
    {
        final BufferChain out = alloc.newChain()
            .append(alloc.allocate(17).putAscii("HTTP/1.1 200 OK\r\n"))
            .append(alloc.allocate(20).putAscii("content-length: 5\r\n\r\n"))
            .append(alloc.allocate(5).put("hello".getBytes(StandardCharsets.US_ASCII)));
        final Path file = dir.resolve("response");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE))
        {
            while (!out.isEmpty())
            {
                out.writeTo(ch);
            }
        }
        out.release();
        assertEquals("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", Files.readString(file, StandardCharsets.US_ASCII));

        // A scattering read fills a small tail's room first, up to its slot's end, then whole chunks.
        final byte[] data = new byte[100];
        Arrays.fill(data, (byte)'r');
        final Path in = Files.write(dir.resolve("in"), data);
        final BufferChain chain = alloc.newChain().append(alloc.allocate(64).putAscii("tail:"));
        try (FileChannel ch = FileChannel.open(in, StandardOpenOption.READ))
        {
            assertEquals(100, chain.readFrom(ch, alloc, 100));
        }
        assertEquals(2, chain.size());
        assertEquals(64, chain.first().length());
        assertEquals(41, chain.last().length());
        final byte[] all = new byte[105];
        int at = 0;
        for (BufferDescriptor d = chain.first(); d != null; d = d.next())
        {
            final int n = (int)d.length();
            d.readableBuffer().get(all, at, n);
            at += n;
        }
        final byte[] expected = new byte[105];
        System.arraycopy("tail:".getBytes(StandardCharsets.US_ASCII), 0, expected, 0, 5);
        Arrays.fill(expected, 5, 105, (byte)'r');
        assertArrayEquals(expected, all);
        chain.release();
        assertEquals(0, alloc.descriptorStats().live());
        assertEquals(0, arena.leakDetector().tracked());
    }
}
