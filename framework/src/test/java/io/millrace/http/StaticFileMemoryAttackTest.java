package io.millrace.http;

import io.millrace.memory.LeakDetector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static io.millrace.http.StaticFileMemoryTest.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    private void files() throws IOException
    {
        root = Files.createDirectories(temp.resolve("root"));
        Files.write(root.resolve("exact.bin"), pattern(64 * 1024, 3));
        Files.write(root.resolve("over.bin"), pattern(64 * 1024 + 1, 5));
        Files.write(root.resolve("empty.bin"), new byte[0]);
        Files.write(root.resolve("tiny.txt"), "0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
        Files.write(root.resolve("mid.bin"), pattern(10_000, 11));
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
     * A slow client's responses for 20 files of 60 KiB (12 MB, past any socket buffer) wait in its output while another client
     * reads 400 more distinct files through the 256-entry limit and a 512 KiB budget: the held
     * entries are evicted under the queued lent memory. Every byte right, and evicted entries'
     * channels close once their responses are out.
     */
    @Test
    void churningFilesBeyondTheEntryLimitAndBudgetWhileQueuedAreIntactAndEvictedChannelsClose() throws Exception
    {
        files();
        final Path churn = Files.createDirectories(root.resolve("c"));
        for (int i = 0; i < 420; i++)
        {
            Files.write(churn.resolve(i + ".bin"), pattern(i < 20 ? 60_000 + i : 1 + i * 37 % 9000, i));
        }
        start(1, 64 * 1024, 512 * 1024);
        final StringBuilder slow = new StringBuilder();
        for (int i = 0; i < 200; i++)
        {
            slow.append(get("c/" + i % 20 + ".bin", i % 4 == 3 ? "Range: bytes=100-59999\r\n" : ""));
        }
        try (Socket a = new Socket(); RawHttpClient b = new RawHttpClient(server.address().getPort()))
        {
            a.setReceiveBufferSize(2048);
            a.setSoTimeout(10_000);
            a.connect(new InetSocketAddress("127.0.0.1", server.address().getPort()));
            a.getOutputStream().write(slow.toString().getBytes(StandardCharsets.US_ASCII));
            Thread.sleep(300); // a's first responses are queued, holding their entries
            for (int i = 20; i < 420; i++)
            {
                b.send(get("c/" + i + ".bin", i % 3 == 0 ? "Range: bytes=0-0\r\n" : ""));
                final byte[] want = pattern(1 + i * 37 % 9000, i);
                final RawHttpClient.Response r = b.read();
                assertArrayEquals(i % 3 == 0 ? range(want, 0, 0) : want, r.body(), "file " + i);
            }
            long held = 0;
            for (int i = 0; i < 20; i++)
            {
                held += openFilesUnder(churn.resolve(i + ".bin"));
            }
            assertTrue(held > 0, "some of a's entries were evicted while its responses held them");
            final InputStream in = a.getInputStream();
            for (int i = 0; i < 200; i++)
            {
                final byte[] want = pattern(60_000 + i % 20, i % 20);
                assertArrayEquals(i % 4 == 3 ? range(want, 100, 59999) : want, body(in, false, i % 4 == 3 ? 206 : 200),
                    "slow file " + i);
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

    /** The cache never lets go of its entries when the server stops (since the open-file cache, not new here): descriptors and memory stay. */
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

    private static long openFilesUnder(final Path dir) throws IOException
    {
        final String prefix = dir.toRealPath().toString();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            return fds.map(StaticFileMemoryAttackTest::target).filter(t -> t.startsWith(prefix)).count();
        }
    }

    private static String target(final Path link)
    {
        try
        {
            return Files.readSymbolicLink(link).toString();
        }
        catch (final IOException e)
        {
            return "";
        }
    }
}
