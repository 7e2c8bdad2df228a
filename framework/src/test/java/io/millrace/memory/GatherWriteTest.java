package io.millrace.memory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gathering writes of chains into files and through real loopback sockets (127.0.0.1 only),
 * including writes the channel takes only in part. Pass or fail depends on the bytes that arrive,
 * never on how long anything took.
 */
@Timeout(60)
class GatherWriteTest
{
    private static final int CHUNK = 64 * 1024;

    @TempDir
    Path dir;

    private final SlabArena arena = SlabArena.builder()
        .chunkSize(CHUNK).slabSize(4 * CHUNK).initialSlabs(1).maxSlabs(4)
        .leakDetector(LeakDetector.paranoid())
        .build();
    private final BufferAllocator alloc = arena.newAllocator("gw");

    @AfterEach
    void everythingWasReleased()
    {
        alloc.onIdle(0);
        assertEquals(0, alloc.descriptorStats().live(), "descriptors left unreleased");
        assertEquals(0, alloc.chunkStats().live(), "chunks left unreleased");
        assertEquals(0, alloc.chainStats().live(), "chains left unreleased");
    }

    private static byte[] pattern(final int length, final long seed)
    {
        final byte[] bytes = new byte[length];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    private BufferDescriptor descriptor(final byte[] bytes)
    {
        final BufferDescriptor d = alloc.allocate();
        assertEquals(bytes.length, d.put(ByteBuffer.wrap(bytes)));
        return d;
    }

    /** A 3-descriptor chain of the given lengths, and the bytes it holds. */
    private BufferChain chainOf(final byte[]... parts)
    {
        final BufferChain chain = alloc.newChain();
        for (final byte[] part : parts)
        {
            chain.append(descriptor(part));
        }
        return chain;
    }

    private static byte[] concat(final byte[]... parts)
    {
        int n = 0;
        for (final byte[] p : parts)
        {
            n += p.length;
        }
        final byte[] all = new byte[n];
        int at = 0;
        for (final byte[] p : parts)
        {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    @Test
    void aThreeDescriptorChainGoesIntoAFileInOrder() throws IOException
    {
        final byte[] a = pattern(CHUNK, 1);
        final byte[] b = pattern(1000, 2);
        final byte[] c = pattern(30_000, 3);
        final BufferChain chain = chainOf(a, b, c);
        final Path file = dir.resolve("out");
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE))
        {
            long written = 0;
            while (!chain.isEmpty())
            {
                written += chain.writeTo(out);
            }
            assertEquals(a.length + b.length + c.length, written);
        }
        chain.release();
        assertArrayEquals(concat(a, b, c), Files.readAllBytes(file));
    }

    @Test
    void forcedPartialWritesResumeWhereTheyStopped() throws IOException
    {
        final byte[] a = pattern(5000, 4);
        final byte[] b = pattern(3, 5);
        final byte[] c = pattern(9000, 6);
        final BufferChain chain = chainOf(a, b, c);
        final Path file = dir.resolve("trickle");
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE))
        {
            final TrickleChannel trickle = new TrickleChannel(out, new int[] {1, 0, 7, 4096, 0, 2, 999});
            int calls = 0;
            while (!chain.isEmpty())
            {
                chain.writeTo(trickle);
                calls++;
                assertTrue(calls < 100_000, "no progress after " + calls + " writes");
            }
            assertTrue(calls > 10, "the channel took the chain in many pieces: " + calls);
            assertTrue(trickle.zeroWrites > 0);
        }
        chain.release();
        assertArrayEquals(concat(a, b, c), Files.readAllBytes(file));
    }

    @Test
    void aFileRegionBetweenMemoryDescriptorsIsSentWithTransferTo() throws IOException
    {
        final byte[] fileBytes = pattern(20_000, 7);
        final Path source = dir.resolve("source");
        Files.write(source, fileBytes);
        final byte[] head = pattern(300, 8);
        final byte[] tail = pattern(40, 9);
        final Path file = dir.resolve("with-region");
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE))
        {
            final BufferChain chain = alloc.newChain()
                .append(descriptor(head))
                .append(alloc.fileRegion(in, 100, 15_000))
                .append(descriptor(tail));
            assertTrue(chain.first().next().isFileRegion());
            assertEquals(0, chain.first().next().capacity());
            final TrickleChannel trickle = new TrickleChannel(out, new int[] {50, 0, 3000, 1});
            for (int calls = 0; !chain.isEmpty(); calls++)
            {
                assertTrue(calls < 100_000, "no progress after " + calls + " writes");
                chain.writeTo(trickle);
            }
            chain.release();
        }
        assertArrayEquals(concat(head, Arrays.copyOfRange(fileBytes, 100, 15_100), tail), Files.readAllBytes(file));
    }

    @Test
    void aBlockingLoopbackSocketWithASmallSendBufferGetsTheBytesInOrder() throws Exception
    {
        final byte[] a = pattern(CHUNK, 10);
        final byte[] b = pattern(17, 11);
        final byte[] c = pattern(50_000, 12);
        final byte[] expected = concat(a, b, c);
        try (ServerSocketChannel server = ServerSocketChannel.open())
        {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (SocketChannel client = SocketChannel.open())
            {
                client.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
                client.connect(server.getLocalAddress());
                try (SocketChannel peer = server.accept())
                {
                    final Reader reader = new Reader(peer, expected.length, 64 * 1024);
                    reader.start();
                    final BufferChain chain = chainOf(a, b, c);
                    while (!chain.isEmpty())
                    {
                        chain.writeTo(client);
                    }
                    chain.release();
                    reader.join();
                    assertNull(reader.error.get());
                    assertArrayEquals(expected, reader.received);
                }
            }
        }
    }

    @Test
    void aNonBlockingSocketWhosePeerReadsSlowlyTakesPartialWritesAndResumes() throws Exception
    {
        final byte[] a = pattern(CHUNK, 13);
        final byte[] b = pattern(CHUNK, 14);
        final byte[] c = pattern(CHUNK - 1, 15);
        final byte[] expected = concat(a, b, c);
        try (ServerSocketChannel server = ServerSocketChannel.open();
             Selector selector = Selector.open())
        {
            server.setOption(StandardSocketOptions.SO_RCVBUF, 4096);      // inherited by the accepted peer
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (SocketChannel client = SocketChannel.open())
            {
                client.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
                client.connect(server.getLocalAddress());
                client.configureBlocking(false);
                try (SocketChannel peer = server.accept())
                {
                    final BufferChain chain = chainOf(a, b, c);
                    // Before the peer reads anything: fill the socket buffers until the kernel takes no more.
                    long first = 0;
                    long n;
                    int partial = 0;
                    while ((n = chain.writeTo(client)) > 0)
                    {
                        first += n;
                        partial++;
                    }
                    assertFalse(chain.isEmpty(), "the socket buffers cannot hold 192 KiB");
                    assertTrue(first > 0 && first < expected.length, "written before the peer read: " + first);
                    assertEquals(expected.length - first, chain.readableBytes(), "the chain holds exactly the unwritten rest");

                    // Now the peer reads, slowly: 512 bytes at a time, yielding in between.
                    final Reader reader = new Reader(peer, expected.length, 512);
                    reader.start();
                    client.register(selector, SelectionKey.OP_WRITE);
                    int zero = 1;
                    while (!chain.isEmpty())
                    {
                        if (chain.writeTo(client) == 0)
                        {
                            zero++;
                            selector.select(100);
                            selector.selectedKeys().clear();
                        }
                        else if (!chain.isEmpty())
                        {
                            partial++;
                        }
                    }
                    chain.release();
                    reader.join();
                    assertNull(reader.error.get());
                    assertArrayEquals(expected, reader.received);
                    assertTrue(partial >= 1 && zero >= 1, "partial writes " + partial + ", full-buffer returns " + zero);
                }
            }
        }
    }

    /** Reads a known number of bytes on its own thread, in pieces of at most {@code piece} bytes. */
    private static final class Reader extends Thread
    {
        final byte[] received;
        final AtomicReference<Throwable> error = new AtomicReference<>();
        private final SocketChannel channel;
        private final int piece;

        Reader(final SocketChannel channel, final int length, final int piece)
        {
            super("loopback-reader");
            this.channel = channel;
            this.received = new byte[length];
            this.piece = piece;
        }

        @Override
        public void run()
        {
            try
            {
                int at = 0;
                final ByteBuffer buffer = ByteBuffer.allocate(piece);
                while (at < received.length)
                {
                    buffer.clear().limit(Math.min(piece, received.length - at));
                    final int n = channel.read(buffer);
                    if (n < 0)
                    {
                        throw new IOException("end of stream after " + at + " bytes");
                    }
                    buffer.flip();
                    buffer.get(received, at, n);
                    at += n;
                    Thread.yield();
                }
            }
            catch (final Throwable t)
            {
                error.set(t);
            }
        }
    }

    /**
     * A channel that takes at most a few bytes per call, cycling through {@code budgets} (0 means
     * "full": takes nothing), and passes them to a file: forces partial writes at every boundary.
     */
    private static final class TrickleChannel implements GatheringByteChannel
    {
        private final FileChannel out;
        private final int[] budgets;
        private int call;
        int zeroWrites;

        TrickleChannel(final FileChannel out, final int[] budgets)
        {
            this.out = out;
            this.budgets = budgets;
        }

        @Override
        public long write(final ByteBuffer[] srcs, final int offset, final int length) throws IOException
        {
            int budget = budgets[call++ % budgets.length];
            if (budget == 0)
            {
                zeroWrites++;
            }
            long written = 0;
            for (int i = offset; i < offset + length && budget > 0; i++)
            {
                final ByteBuffer src = srcs[i];
                final int take = Math.min(budget, src.remaining());
                final ByteBuffer part = src.duplicate();
                part.limit(part.position() + take);
                while (part.hasRemaining())
                {
                    out.write(part);
                }
                src.position(src.position() + take);
                budget -= take;
                written += take;
            }
            return written;
        }

        @Override
        public long write(final ByteBuffer[] srcs) throws IOException
        {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(final ByteBuffer src) throws IOException
        {
            return (int)write(new ByteBuffer[] {src}, 0, 1);
        }

        @Override
        public boolean isOpen()
        {
            return out.isOpen();
        }

        @Override
        public void close() throws IOException
        {
            out.close();
        }
    }
}
