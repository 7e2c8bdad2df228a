package io.millrace.demo;

import io.millrace.demo.http.ExpositionGrammar;
import io.millrace.net.TransportStats;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Limits that protect the demo server from its peers, and its observability endpoints. */
class HttpLimitsTest
{
    private static final long OUTPUT_CAP = 256 * 1024; // TcpServerBuilder's default

    @TempDir
    Path root;
    @TempDir
    Path outside;

    private DemoServerFixture server;

    @AfterEach
    void everyBufferIsBack()
    {
        if (server != null)
        {
            server.close();
            assertEquals(0, server.chunksInUse(), "every pooled chunk is back after shutdown");
            assertEquals(0, server.leaks.leaksReported(), "the paranoid leak detector reported no leak");
        }
    }

    @Test
    void aClientThatNeverReadsCannotGrowPendingOutputAndOthersAreServed() throws Exception
    {
        final byte[] big = new byte[4 << 20];
        new Random(1).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        server = new DemoServerFixture(root);
        try (Socket hog = new Socket())
        {
            hog.setReceiveBufferSize(16 * 1024);
            hog.connect(new InetSocketAddress("127.0.0.1", server.port()));
            final String get = "GET /files/big.bin HTTP/1.1\r\nHost: t\r\n\r\n";
            hog.getOutputStream().write(get.repeat(200).getBytes(StandardCharsets.US_ASCII)); // 800 MiB asked, none read
            Thread.sleep(300);
            try (RawHttp other = new RawHttp(server.port()))
            {
                for (int i = 0; i < 20; i++)
                {
                    other.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
                    assertEquals(200, other.read().status(), "another connection is served meanwhile");
                }
                other.send("GET /files/big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
                assertArrayEquals(big, other.read().body(), "a reading client gets the whole file, by sendfile");
            }
            final TransportStats stats = server.service.transportStats();
            // One response (4 MiB of file region plus a head) may sit above the cap; the next
            // pipelined request is not even parsed until the peer drains below it.
            assertTrue(stats.maxPendingOutputBytes() <= OUTPUT_CAP + big.length + 1024,
                "pending output stayed capped: " + stats.maxPendingOutputBytes());
            assertTrue(stats.pendingOutputBytes() > 0, "the hog still has output queued: " + stats);
            assertTrue(server.chunksInUse() < 64, "the hog holds a bounded number of chunks: " + server.chunksInUse());
        }
    }

    @Test
    void aBodyThatFindsNoBufferFailsAloneAndServiceGoesOn() throws Exception
    {
        server = new DemoServerFixture(root, Duration.ofSeconds(30), Duration.ofSeconds(10), 0, 1); // 64 chunks of 16 KiB
        final String value = "v".repeat(1536 * 1024); // the body needs 96 chunks: more than exist
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("PUT /kv/big HTTP/1.1\r\nHost: t\r\nContent-Length: " + value.length() + "\r\n\r\n");
            try
            {
                raw.send(value);
            }
            catch (final java.io.IOException resetWhileSending)
            {
                // The server answered and closed while the body was still coming: allowed.
            }
            final RawHttp.Response failed = raw.read();
            assertEquals(503, failed.status(), "the body could not be held: a clear failure, not a hang");
            assertTrue(raw.closedByServer(), "and the connection closes");
        }
        // The body budget (half the 1 MiB arena by default) refuses it before the arena runs dry, so
        // the buffers that every connection needs to read stay available.
        assertTrue(server.service.httpStats().bodyBudgetRefusals() > 0, "refused by the body budget");
        assertEquals(0, server.service.arena().exhaustions(), "the arena itself never ran out");
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, raw.read().status(), "the server goes on serving: the failed response gave its chunks back");
            raw.send("DELETE /kv/big HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(404, raw.read().status(), "the failed PUT stored nothing");
        }
        // The @AfterEach check (every chunk back, no leak) covers the failed response's buffers.
    }

    @Test
    void idleConnectionsAreClosed() throws Exception
    {
        server = new DemoServerFixture(root, Duration.ofMillis(300), Duration.ofSeconds(10), 0);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, raw.read().status());
            assertTrue(raw.closedByServer(), "closed after 300 ms of silence");
            assertEquals(1, server.service.transportStats().idleTimeouts());
        }
    }

    @Test
    void aRequestHeadTrickledSlowlyIsCutOff() throws Exception
    {
        server = new DemoServerFixture(root, Duration.ofSeconds(30), Duration.ofMillis(400), 0);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.socket.setSoTimeout(50);
            raw.send("GET /hello HTTP/1.1\r\n");
            boolean closed = false;
            final long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!closed && System.nanoTime() < end)
            {
                try
                {
                    raw.send("X-Slow: 1\r\n"); // never the blank line
                    closed = raw.closedByServer();
                }
                catch (final SocketTimeoutException stillOpen)
                {
                    // keep trickling
                }
                catch (final IOException reset)
                {
                    closed = true;
                }
            }
            assertTrue(closed, "the request timeout closed the slowloris connection");
            assertEquals(1, server.service.transportStats().readTimeouts());
        }
    }

    @Test
    void traversalNeverServesAFileOutsideTheRoot() throws Exception
    {
        Files.writeString(outside.resolve("secret.txt"), "TOP SECRET");
        Files.writeString(root.resolve("ok.txt"), "fine");
        Files.createSymbolicLink(root.resolve("escape"), outside);
        Files.createSymbolicLink(root.resolve("link.txt"), outside.resolve("secret.txt"));
        server = new DemoServerFixture(root);
        final String up = root.relativize(outside).toString(); // e.g. ../junit123
        final String[] attacks = {
            "/files/" + up + "/secret.txt",
            "/files/../" + outside.getFileName() + "/secret.txt",
            "/files/%2e%2e/" + outside.getFileName() + "/secret.txt",
            "/files/%2E%2e%2f" + outside.getFileName() + "%2fsecret.txt",
            "/files/..%2f" + outside.getFileName() + "%2fsecret.txt",
            "/files/escape/secret.txt",
            "/files/link.txt",
            "/files/ok.txt%00.html",
            "/files/%5c..%5csecret.txt",
        };
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /files/ok.txt HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals("fine", raw.read().text(), "a file inside the root is served");
        }
        for (final String attack : attacks)
        {
            try (RawHttp raw = new RawHttp(server.port()))
            {
                raw.send("GET " + attack + " HTTP/1.1\r\nHost: t\r\n\r\n");
                final RawHttp.Response r = raw.read();
                assertNotEquals(200, r.status(), attack + " must be refused");
                assertFalse(r.text().contains("TOP SECRET"), attack + " leaked the file");
            }
        }
    }

    @Test
    void filesCarryContentTypeAndLastModifiedAndHonourIfModifiedSince() throws Exception
    {
        Files.writeString(root.resolve("page.html"), "<p>hi</p>");
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /files/page.html HTTP/1.1\r\nHost: t\r\n\r\n");
            final RawHttp.Response r = raw.read();
            assertEquals(200, r.status());
            assertEquals("text/html; charset=utf-8", r.header("content-type"));
            final String lastModified = r.header("last-modified");
            assertTrue(lastModified != null && lastModified.endsWith("GMT"), "Last-Modified: " + lastModified);
            raw.send("GET /files/page.html HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: " + lastModified + "\r\n\r\n");
            assertEquals(304, raw.read().status());
        }
    }

    @Test
    void metricsFollowTheExpositionFormatAndStatsIsAPage() throws Exception
    {
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            for (int i = 0; i < 10; i++)
            {
                raw.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
                raw.read();
            }
            raw.send("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
            final RawHttp.Response metrics = raw.read();
            assertEquals(200, metrics.status());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", metrics.header("content-type"));
            ExpositionGrammar.assertValid(metrics.text());
            assertTrue(metrics.text().contains("stage=\"hello\""), "per-stage series are there");
            assertTrue(metrics.text().contains("millrace_connections_open 1"), "transport series are there");
            raw.send("GET /stats HTTP/1.1\r\nHost: t\r\n\r\n");
            final RawHttp.Response stats = raw.read();
            assertEquals(200, stats.status());
            assertTrue(stats.text().contains("<html") && stats.text().contains("hello"), "a page naming the stages");
        }
    }
}
