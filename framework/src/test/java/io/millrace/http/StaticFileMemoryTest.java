package io.millrace.http;

import io.millrace.memory.LeakDetector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Small static files answered from the open-file cache's memory (one writev of head and body) next
 * to large ones sent with sendfile, through a real {@link HttpServer}: bytes intact for pipelined
 * whole files and ranges of the same file, a replaced file seen after the validity, clients that
 * vanish mid-response, and every buffer back afterwards.
 */
@Timeout(60)
class StaticFileMemoryTest
{
    @TempDir
    Path temp;

    private final LeakDetector leaks = LeakDetector.paranoid();
    private HttpServer server;

    private Path root() throws IOException
    {
        final Path root = Files.createDirectories(temp.resolve("root"));
        Files.write(root.resolve("small.bin"), pattern(60 * 1024, 7));
        Files.write(root.resolve("large.bin"), pattern(300 * 1024, 13));
        Files.writeString(root.resolve("tiny.txt"), "0123456789abcdef");
        return root;
    }

    private void start(final Path root, final int maxFileBytes, final long maxTotalBytes)
    {
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks)
            .staticFileMemory(maxFileBytes, maxTotalBytes).staticFiles("/files/", root).start();
    }

    @AfterEach
    void everyBufferIsBack()
    {
        if (server != null)
        {
            server.shutdown(Duration.ofSeconds(10));
            assertEquals(0, StreamedBodyTest.chunksInUse(server), "every pooled chunk is back after shutdown");
            assertEquals(0, leaks.leaksReported(), "the paranoid leak detector reported no leak");
        }
    }

    @Test
    void pipelinedWholeFilesAndRangesOfTheSameSmallFileAreIntact() throws IOException
    {
        start(root(), 64 * 1024, 1 << 20);
        final byte[] small = pattern(60 * 1024, 7);
        final byte[] large = pattern(300 * 1024, 13);
        try (RawHttpClient raw = new RawHttpClient(server.address().getPort()))
        {
            for (int round = 0; round < 3; round++)
            {
                // Five responses in one batch: the same memory three times at different ranges.
                raw.send("GET /files/tiny.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-3\r\n\r\n" +
                    "GET /files/tiny.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=6-9\r\n\r\n" +
                    "GET /files/small.bin HTTP/1.1\r\nHost: t\r\n\r\n" +
                    "GET /files/tiny.txt HTTP/1.1\r\nHost: t\r\n\r\n" +
                    "GET /files/large.bin HTTP/1.1\r\nHost: t\r\n\r\n" +
                    "HEAD /files/small.bin HTTP/1.1\r\nHost: t\r\n\r\n");
                assertEquals("0123", raw.read().text());
                assertEquals("6789", raw.read().text());
                final RawHttpClient.Response s = raw.read();
                assertEquals(200, s.status());
                assertArrayEquals(small, s.body(), "the small file from memory");
                assertEquals("0123456789abcdef", raw.read().text());
                assertArrayEquals(large, raw.read().body(), "the large file with sendfile");
                final RawHttpClient.Response head = raw.read(true);
                assertEquals(String.valueOf(small.length), head.header("content-length"));
            }
        }
    }

    @Test
    void aFileReplacedByRenameIsServedNewAfterTheValidity() throws IOException, InterruptedException
    {
        final Path root = root();
        start(root, 64 * 1024, 1 << 20);
        try (RawHttpClient raw = new RawHttpClient(server.address().getPort()))
        {
            raw.send("GET /files/tiny.txt HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals("0123456789abcdef", raw.read().text());
            final Path next = Files.writeString(temp.resolve("next.txt"), "replaced, and longer than before");
            Files.move(next, root.resolve("tiny.txt"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            String text = "";
            for (int i = 0; i < 60 && !text.startsWith("replaced"); i++)
            {
                Thread.sleep(100);
                raw.send("GET /files/tiny.txt HTTP/1.1\r\nHost: t\r\n\r\n");
                text = raw.read().text();
                assertTrue(text.equals("0123456789abcdef") || text.equals("replaced, and longer than before"),
                    "the old file or the new one, never a mix: " + text);
            }
            assertEquals("replaced, and longer than before", text, "seen within the 1 s validity (and a margin)");
        }
    }

    @Test
    void clientsThatVanishMidResponseLeaveNothingHeld() throws Exception
    {
        start(root(), 64 * 1024, 1 << 20);
        final byte[] many = "GET /files/small.bin HTTP/1.1\r\nHost: t\r\n\r\n".repeat(40).getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 20; i++)
        {
            try (Socket s = new Socket())
            {
                s.setReceiveBufferSize(4096);
                s.connect(new InetSocketAddress("127.0.0.1", server.address().getPort()));
                s.getOutputStream().write(many);
                final InputStream in = s.getInputStream();
                in.readNBytes(1000 + i * 997); // part of the first response, then gone with 2.4 MB unread
                s.setSoLinger(true, 0);        // a reset, not a polite close
            }
        }
        // The server is still whole: every answer right on a fresh connection.
        try (RawHttpClient raw = new RawHttpClient(server.address().getPort()))
        {
            raw.send("GET /files/small.bin HTTP/1.1\r\nHost: t\r\n\r\n");
            assertArrayEquals(pattern(60 * 1024, 7), raw.read().body());
        }
    }

    @Test
    void withNoMemoryEveryFileGoesOutWithSendfileAndIsStillRight() throws IOException
    {
        start(root(), 0, 0);
        try (RawHttpClient raw = new RawHttpClient(server.address().getPort()))
        {
            raw.send("GET /files/tiny.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-3\r\n\r\nGET /files/small.bin HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals("0123", raw.read().text());
            assertArrayEquals(pattern(60 * 1024, 7), raw.read().body());
        }
    }

    @Test
    void badMemorySettingsAreRefusedWithWhatIsAllowed()
    {
        final HttpServerBuilder b = HttpServer.builder();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.staticFileMemory(-1, 10)).getMessage().contains("0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.staticFileMemory(128 << 20, 1L << 30)).getMessage()
            .contains("64 MiB"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.staticFileMemory(1024, 10)).getMessage()
            .contains("at least maxFileBytes"));
    }

    static byte[] pattern(final int length, final int seed)
    {
        final byte[] b = new byte[length];
        for (int i = 0; i < length; i++)
        {
            b[i] = (byte)(i * seed >>> 5 ^ i);
        }
        return b;
    }
}
