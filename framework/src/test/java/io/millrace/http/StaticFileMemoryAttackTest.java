package io.millrace.http;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static io.millrace.http.StaticFileMemoryTest.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Attacks on small static files sent from the open-file cache's memory (BufferAllocator.wrap, lent memory). */
@Timeout(30)
class StaticFileMemoryAttackTest
{
    @TempDir
    Path temp;

    private final LeakDetector leaks = LeakDetector.paranoid();
    private final List<Throwable> fatal = new CopyOnWriteArrayList<>();
    private HttpServer server;
    private Path root;

    private void start(final int workers, final int maxFileBytes, final long maxTotalBytes) throws IOException
    {
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(workers).leakDetector(leaks)
            .onFatalError((pipeline, thread, error) -> fatal.add(error))
            .staticFileMemory(maxFileBytes, maxTotalBytes).staticFiles("/f/", root).start();
    }

    private Path files() throws IOException
    {
        root = Files.createDirectories(temp.resolve("root"));
        Files.write(root.resolve("exact.bin"), pattern(64 * 1024, 3));
        Files.write(root.resolve("over.bin"), pattern(64 * 1024 + 1, 5));
        Files.write(root.resolve("empty.bin"), new byte[0]);
        Files.write(root.resolve("tiny.txt"), "0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
        Files.write(root.resolve("mid.bin"), pattern(10_000, 11));
        return root;
    }

    @AfterEach
    void everythingIsBack()
    {
        if (server != null)
        {
            server.shutdown(Duration.ofSeconds(10));
            assertEquals(0, StreamedBodyTest.chunksInUse(server), "every pooled chunk is back after shutdown");
            assertEquals(0, leaks.leaksReported(), "the paranoid leak detector reported no leak");
            assertEquals(List.of(), fatal, "no worker failed");
        }
    }

    private static String get(final String path, final String extra)
    {
        return "GET /f/" + path + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
    }

    /** Reads one response from a raw stream; HEAD answers carry no body. */
    private static byte[] body(final InputStream in, final boolean head, final int expectStatus) throws IOException
    {
        final ByteArrayOutputStream h = new ByteArrayOutputStream();
        while (!h.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n"))
        {
            final int c = in.read();
            if (c < 0)
            {
                throw new IOException("closed mid-head: " + h.toString(StandardCharsets.ISO_8859_1));
            }
            h.write(c);
        }
        final String text = h.toString(StandardCharsets.ISO_8859_1);
        assertTrue(text.startsWith("HTTP/1.1 " + expectStatus), text);
        final int at = text.toLowerCase().indexOf("content-length: ");
        final int length = Integer.parseInt(text.substring(at + 16, text.indexOf('\r', at)).trim());
        return head ? new byte[0] : in.readNBytes(length);
    }

    private static byte[] range(final byte[] b, final int from, final int to)
    {
        return java.util.Arrays.copyOfRange(b, from, to + 1);
    }

    /** Boundary sizes, ranges, HEAD and the same memory many times in one batch, read slowly by four clients on two workers. */
    @Test
    void pipelinedBoundarySizesRangesAndHeadsThroughSlowReadersAreIntact() throws Exception
    {
        files();
        start(2, 64 * 1024, 1 << 20);
        final byte[] exact = pattern(64 * 1024, 3);
        final byte[] over = pattern(64 * 1024 + 1, 5);
        final byte[] mid = pattern(10_000, 11);
        final String batch = get("exact.bin", "") + get("tiny.txt", "Range: bytes=3-5\r\n") + get("over.bin", "") +
            get("empty.bin", "") + get("exact.bin", "Range: bytes=65535-\r\n") + "HEAD /f/exact.bin HTTP/1.1\r\nHost: t\r\n\r\n" +
            get("mid.bin", "Range: bytes=-100\r\n") + get("exact.bin", "Range: bytes=1000-1999\r\n") + get("mid.bin", "") +
            get("tiny.txt", "") + get("exact.bin", "");
        final List<Thread> clients = new ArrayList<>();
        final List<Throwable> failures = new CopyOnWriteArrayList<>();
        for (int k = 0; k < 4; k++)
        {
            final Thread t = new Thread(() ->
            {
                try (Socket s = new Socket())
                {
                    s.setReceiveBufferSize(2048);
                    s.setSoTimeout(10_000);
                    s.connect(new InetSocketAddress("127.0.0.1", server.address().getPort()));
                    s.getOutputStream().write(batch.repeat(6).getBytes(StandardCharsets.US_ASCII));
                    Thread.sleep(100); // let the server queue a few MB and meet a full socket
                    final InputStream in = s.getInputStream();
                    for (int round = 0; round < 6; round++)
                    {
                        assertArrayEquals(exact, body(in, false, 200), "exactly 64 KiB, from memory");
                        assertEquals("345", new String(body(in, false, 206), StandardCharsets.US_ASCII));
                        assertArrayEquals(over, body(in, false, 200), "64 KiB + 1, with sendfile");
                        assertEquals(0, body(in, false, 200).length, "empty file");
                        assertArrayEquals(range(exact, 65535, 65535), body(in, false, 206));
                        assertEquals(0, body(in, true, 200).length);
                        assertArrayEquals(range(mid, 9900, 9999), body(in, false, 206));
                        assertArrayEquals(range(exact, 1000, 1999), body(in, false, 206));
                        assertArrayEquals(mid, body(in, false, 200));
                        assertEquals("0123456789abcdef", new String(body(in, false, 200), StandardCharsets.US_ASCII));
                        assertArrayEquals(exact, body(in, false, 200));
                    }
                }
                catch (final Throwable e)
                {
                    failures.add(e);
                }
            });
            t.start();
            clients.add(t);
        }
        for (final Thread t : clients)
        {
            t.join();
        }
        assertEquals(List.of(), failures);
    }

    /**
     * 600 distinct small files through a 256 KiB budget and the 256-entry limit, all pipelined to
     * two slow clients: entries are evicted while their responses still wait. Every byte right, and
     * the channels of evicted entries close once their responses are out.
     */
    @Test
    void churningFilesBeyondTheEntryLimitAndBudgetWhileQueuedAreIntactAndEvictedChannelsClose() throws Exception
    {
        files();
        final Path churn = Files.createDirectories(root.resolve("c"));
        final StringBuilder requests = new StringBuilder();
        for (int i = 0; i < 600; i++)
        {
            Files.write(churn.resolve(i + ".bin"), pattern(1 + i * 37 % 9000, i));
            requests.append(get("c/" + i + ".bin", i % 3 == 0 ? "Range: bytes=0-0\r\n" : ""));
        }
        start(1, 64 * 1024, 256 * 1024);
        for (int k = 0; k < 2; k++)
        {
            try (Socket s = new Socket())
            {
                s.setReceiveBufferSize(2048);
                s.setSoTimeout(10_000);
                s.connect(new InetSocketAddress("127.0.0.1", server.address().getPort()));
                s.getOutputStream().write(requests.toString().getBytes(StandardCharsets.US_ASCII));
                Thread.sleep(100);
                final InputStream in = s.getInputStream();
                for (int i = 0; i < 600; i++)
                {
                    final byte[] want = pattern(1 + i * 37 % 9000, i);
                    assertArrayEquals(i % 3 == 0 ? range(want, 0, 0) : want, body(in, false, i % 3 == 0 ? 206 : 200), "file " + i);
                }
            }
        }
        Thread.sleep(200);
        final long open = openFilesUnder(churn);
        assertTrue(open <= 256, open + " churned files still open with a 256-entry cache");
    }

    /** A client that never reads, its output capped with small files' memory queued: shutdown still gives everything back. */
    @Test
    void shutdownWithLentMemoryQueuedToAClientThatNeverReadsGivesEverythingBack() throws Exception
    {
        files();
        start(2, 64 * 1024, 1 << 20);
        final List<Socket> sockets = new ArrayList<>();
        try
        {
            for (int k = 0; k < 4; k++)
            {
                final Socket s = new Socket();
                s.setReceiveBufferSize(2048);
                s.connect(new InetSocketAddress("127.0.0.1", server.address().getPort()));
                s.getOutputStream().write((get("exact.bin", "") + get("tiny.txt", "Range: bytes=1-2\r\n")).repeat(50)
                    .getBytes(StandardCharsets.US_ASCII));
                sockets.add(s);
            }
            Thread.sleep(300);
            server.shutdown(Duration.ofSeconds(2));
        }
        finally
        {
            for (final Socket s : sockets)
            {
                s.close();
            }
        }
    }

    /** The cache never lets go of its entries when the server stops: their descriptors stay open. */
    @Test
    void noCachedFileStaysOpenAfterShutdown() throws Exception
    {
        files();
        start(1, 64 * 1024, 1 << 20);
        try (RawHttpClient raw = new RawHttpClient(server.address().getPort()))
        {
            raw.send(get("tiny.txt", "") + get("over.bin", ""));
            assertEquals(200, raw.read().status());
            assertEquals(200, raw.read().status());
        }
        server.shutdown(Duration.ofSeconds(5));
        assertEquals(0, openFilesUnder(root), "files of the stopped server's cache still open");
    }

    /**
     * A file rewritten in place with its modification time kept (rsync --inplace -t, cp -p onto
     * it): sendfile read the inode and served the new bytes; the copy in memory is served forever.
     */
    @Test
    void aFileRewrittenInPlaceWithItsMtimeKeptIsServedFreshAfterTheValidity() throws Exception
    {
        files();
        start(1, 64 * 1024, 1 << 20);
        final Path tiny = root.resolve("tiny.txt");
        final FileTime mtime = Files.getLastModifiedTime(tiny);
        try (RawHttpClient raw = new RawHttpClient(server.address().getPort()))
        {
            raw.send(get("tiny.txt", ""));
            assertEquals("0123456789abcdef", raw.read().text());
            Files.write(tiny, "FEDCBA9876543210".getBytes(StandardCharsets.US_ASCII)); // same inode, same size
            Files.setLastModifiedTime(tiny, mtime);
            Thread.sleep(1300); // past the 1 s validity
            raw.send(get("tiny.txt", ""));
            assertEquals("FEDCBA9876543210", raw.read().text(), "the file's bytes now (sendfile's answer), not a stale copy");
        }
    }

    /**
     * Direct memory runs out (the slab arena grew, another library holds it, or dead buffers wait
     * for a GC that -XX:+DisableExplicitGC never forces): OpenFileCache.readSmall's allocateDirect
     * throws OutOfMemoryError, which is fatal to the worker, where sendfile would have done.
     */
    @Test
    void directMemoryRunningOutWhileOpeningASmallFileDoesNotKillTheWorker() throws Exception
    {
        files();
        start(1, 64 * 1024, 1 << 20);
        try (RawHttpClient raw = new RawHttpClient(server.address().getPort()))
        {
            raw.socket.setSoTimeout(4000);
            raw.send(get("tiny.txt", ""));
            assertEquals("0123456789abcdef", raw.read().text()); // warm: the client's temporary buffers exist
            final AtomicLong capacity = bitsTotalCapacity();
            final long squeeze = maxDirectMemory() - capacity.get() - 16 * 1024;
            capacity.addAndGet(squeeze);
            RawHttpClient.Response r = null;
            Throwable failure = null;
            try
            {
                raw.send(get("exact.bin", ""));
                r = raw.read();
            }
            catch (final IOException e)
            {
                failure = e;
            }
            finally
            {
                capacity.addAndGet(-squeeze);
            }
            if (failure != null)
            {
                fail("no answer for a small file while direct memory was short (fatal: " + fatal + ")", failure);
            }
            assertArrayEquals(pattern(64 * 1024, 3), r.body(), "served with sendfile instead");
        }
    }

    /** Lent memory: two descriptors' readableBuffer() views must be independent, as every other descriptor's are. */
    @Test
    void readableBuffersOfTwoSlicesOfLentMemoryAreIndependent()
    {
        final BufferAllocator alloc = SlabArena.builder().chunkSize(4096).slabSize(1 << 16).maxSlabs(2).leakDetector(leaks).build()
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
        final SlabArena arena = SlabArena.builder().chunkSize(4096).slabSize(1 << 16).maxSlabs(2).leakDetector(leaks).build();
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
                c.writeTo(new Sink(theirs, () -> { }));
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
        chain.writeTo(new Sink(ours, () ->
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

    /** Takes everything offered, after running {@code before}. */
    private record Sink(ByteArrayOutputStream out, Runnable before) implements GatheringByteChannel
    {
        @Override
        public long write(final ByteBuffer[] srcs, final int offset, final int length)
        {
            before.run();
            long n = 0;
            for (int i = offset; i < offset + length; i++)
            {
                while (srcs[i].hasRemaining())
                {
                    out.write(srcs[i].get());
                    n++;
                }
            }
            return n;
        }

        @Override
        public long write(final ByteBuffer[] srcs)
        {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(final ByteBuffer src)
        {
            return (int)write(new ByteBuffer[] {src}, 0, 1);
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

    private static long openFilesUnder(final Path dir) throws IOException
    {
        final String prefix = dir.toRealPath().toString();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            return fds.filter(fd ->
            {
                try
                {
                    return Files.readSymbolicLink(fd).toString().startsWith(prefix);
                }
                catch (final IOException e)
                {
                    return false;
                }
            }).count();
        }
    }

    /** java.nio.Bits.TOTAL_CAPACITY, through jdk.internal.misc.Unsafe (exported to tests by the surefire argLine). */
    private static AtomicLong bitsTotalCapacity() throws ReflectiveOperationException
    {
        final Class<?> u = Class.forName("jdk.internal.misc.Unsafe");
        final Object unsafe = u.getMethod("getUnsafe").invoke(null);
        final Field f = Class.forName("java.nio.Bits").getDeclaredField("TOTAL_CAPACITY");
        final Object base = u.getMethod("staticFieldBase", Field.class).invoke(unsafe, f);
        final long offset = (long)u.getMethod("staticFieldOffset", Field.class).invoke(unsafe, f);
        final Method get = u.getMethod("getReference", Object.class, long.class);
        return (AtomicLong)get.invoke(unsafe, base, offset);
    }

    private static long maxDirectMemory() throws ReflectiveOperationException
    {
        return (long)Class.forName("jdk.internal.misc.VM").getMethod("maxDirectMemory").invoke(null);
    }
}
