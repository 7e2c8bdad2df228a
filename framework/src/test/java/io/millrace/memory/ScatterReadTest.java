package io.millrace.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scattering reads from a channel into a chain: the tail's room first, then fresh chunks. */
class ScatterReadTest
{
    @TempDir
    Path dir;

    private final SlabArena arena = SlabArena.builder()
        .chunkSize(4096).slabSize(16 * 1024).initialSlabs(1).maxSlabs(4)
        .leakDetector(LeakDetector.paranoid())
        .build();
    private final BufferAllocator alloc = arena.newAllocator("sr");

    private static byte[] bytesOf(final BufferChain chain)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (BufferDescriptor d = chain.first(); d != null; d = d.next())
        {
            final ByteBuffer b = d.readableBuffer();
            final byte[] part = new byte[b.remaining()];
            b.get(part);
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    @Test
    void aFileIsReadIntoAChainAcrossChunks() throws IOException
    {
        final byte[] content = new byte[10_000];
        new SplittableRandom(42).nextBytes(content);
        final Path file = dir.resolve("in");
        Files.write(file, content);

        final BufferChain chain = alloc.newChain();
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ))
        {
            long total = 0;
            long n;
            int reads = 0;
            while ((n = chain.readFrom(in, alloc, 3000)) >= 0)
            {
                assertTrue(n <= 3000);
                total += n;
                reads++;
            }
            assertEquals(content.length, total);
            assertEquals(4, reads, "3000 + 3000 + 3000 + 1000 bytes");
        }
        // 10 000 bytes in 4096-byte chunks, each filled before the next is taken: 3 descriptors.
        assertEquals(3, chain.size());
        assertEquals(4096, chain.first().length());
        assertEquals(10_000 - 2 * 4096, chain.last().length());
        assertArrayEquals(content, bytesOf(chain));
        assertEquals(3, alloc.chunkStats().live(), "the fresh descriptor of the read that hit the end was released");
        chain.release();
        assertEquals(0, alloc.chunkStats().live());
        assertEquals(0, alloc.descriptorStats().live());
    }

    @Test
    void oneReadSpansSeveralFreshChunks() throws IOException
    {
        final byte[] content = new byte[9000];
        new SplittableRandom(7).nextBytes(content);
        final Path file = dir.resolve("big");
        Files.write(file, content);
        final BufferChain chain = alloc.newChain();
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ))
        {
            assertEquals(9000, chain.readFrom(in, alloc, 16_384));
            assertEquals(-1, chain.readFrom(in, alloc, 16_384));
        }
        assertEquals(3, chain.size());
        assertArrayEquals(content, bytesOf(chain));
        chain.release();
        assertEquals(0, alloc.chunkStats().live());
    }
}
