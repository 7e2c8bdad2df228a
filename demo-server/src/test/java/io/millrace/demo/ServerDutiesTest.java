package io.millrace.demo;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Duties the transport and the HTTP layer share, over real sockets: byte ranges and HEAD of static
 * files, 408 for a request that trickles in, one connection limit over all workers answered with
 * 503, and an idle timeout that never cuts a request in process.
 */
class ServerDutiesTest
{
    @TempDir
    Path root;

    private DemoServerFixture server;

    @AfterEach
    void everyBufferIsBack()
    {
        if (server != null)
        {
            server.close();
            assertEquals(0, server.chunksInUse(), "every pooled chunk is back after shutdown");
            assertEquals(0, server.leaks.leaksReported(), "no leak reported");
        }
    }

    @Test
    @Timeout(60)
    void staticFilesAnswerRangesAndHead() throws Exception
    {
        final byte[] content = new byte[1000];
        for (int i = 0; i < content.length; i++)
        {
            content[i] = (byte)('a' + i % 26);
        }
        Files.write(root.resolve("data.bin"), content);
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /files/data.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertEquals(206, r.status());
            assertEquals("bytes 0-9/1000", r.header("content-range"));
            assertArrayEquals(java.util.Arrays.copyOfRange(content, 0, 10), r.body());

            raw.send("GET /files/data.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=-5\r\n\r\n");
            r = raw.read();
            assertEquals(206, r.status());
            assertArrayEquals(java.util.Arrays.copyOfRange(content, 995, 1000), r.body());

            raw.send("GET /files/data.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=2000-\r\n\r\n");
            r = raw.read();
            assertEquals(416, r.status());
            assertEquals("bytes */1000", r.header("content-range"));

            raw.send("GET /files/data.bin HTTP/1.1\r\nHost: t\r\n\r\n");
            r = raw.read();
            assertEquals(200, r.status());
            assertEquals("bytes", r.header("accept-ranges"));
            assertArrayEquals(content, r.body());

            // HEAD: the length of the body it leaves out, and the next pipelined response right after.
            raw.send("HEAD /files/data.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            final String head = headOnly(raw);
            assertTrue(head.startsWith("HTTP/1.1 200 "), head);
            assertTrue(head.toLowerCase().contains("content-length: 1000"), head);
            assertEquals("Hello, World!\n", raw.read().text(), "no body bytes came between the HEAD and the next response");
        }
    }

    @Test
    @Timeout(60)
    void aRequestThatTricklesInIsAnswered408() throws Exception
    {
        server = new DemoServerFixture(root, "--request-timeout-ms", "300");
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /hello HTTP/1.1\r\nHo");
            final RawHttp.Response r = raw.read();
            assertEquals(408, r.status());
            assertEquals("close", r.header("connection"));
            assertTrue(raw.closedByServer());
        }
        assertEquals(1, server.service.httpStats().requestTimeouts());
    }

    @Test
    @Timeout(60)
    void theConnectionLimitCountsAllWorkersAndARefusedClientReads503() throws Exception
    {
        server = new DemoServerFixture(root, "--max-connections", "4");
        final List<RawHttp> open = new ArrayList<>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                final RawHttp raw = new RawHttp(server.port());
                open.add(raw);
                raw.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
                assertEquals(200, raw.read().status(), "connection " + i + " of 4 is served, on whichever worker");
            }
            try (RawHttp refused = new RawHttp(server.port()))
            {
                final RawHttp.Response r = refused.read();
                assertEquals(503, r.status());
                assertEquals("1", r.header("retry-after"));
                assertTrue(refused.closedByServer());
            }
            open.remove(0).close();
            // The slot comes back when a connection closes.
            final long until = System.nanoTime() + 10_000_000_000L;
            int status = 0;
            while (status != 200 && System.nanoTime() < until)
            {
                try (RawHttp again = new RawHttp(server.port()))
                {
                    again.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
                    status = again.read().status();
                }
                catch (final IOException refusedOrReset)
                {
                    status = 0;
                }
                if (status != 200)
                {
                    Thread.sleep(20);
                }
            }
            assertEquals(200, status, "a closed connection's slot is reused");
        }
        finally
        {
            for (final RawHttp raw : open)
            {
                raw.close();
            }
        }
    }

    @Test
    @Timeout(60)
    void theIdleTimeoutNeverCutsARequestInProcess() throws Exception
    {
        server = new DemoServerFixture(root, "--idle-timeout-ms", "300");
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /slow?ms=1200 HTTP/1.1\r\nHost: t\r\n\r\n");
            final RawHttp.Response r = raw.read();
            assertEquals(200, r.status());
            assertEquals("slept 1200 ms\n", r.text());
            // Once answered, the connection idles out as before.
            assertTrue(raw.closedByServer());
        }
    }

    @Test
    @Timeout(60)
    void uploadsStillArrivingHoldNoInFlightPermit() throws Exception
    {
        server = new DemoServerFixture(root, "--max-in-flight", "2");
        final List<RawHttp> uploads = new ArrayList<>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                final RawHttp raw = new RawHttp(server.port());
                uploads.add(raw);
                raw.send("PUT /kv/up" + i + " HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\n\r\n0123456789");
            }
            // Ten uploads half sent, an in-flight bound of two: other clients are still served.
            for (int i = 0; i < 5; i++)
            {
                try (RawHttp other = new RawHttp(server.port()))
                {
                    other.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
                    assertEquals(200, other.read().status(), "a slow upload does not hold a permit");
                }
            }
            assertEquals(0, server.service.pipeline().metrics().inFlight(), "nothing in flight while bodies arrive");
            for (int i = 0; i < uploads.size(); i++)
            {
                uploads.get(i).send("abcdefghij");
                assertEquals(201, uploads.get(i).read().status(), "upload " + i + " completes once whole");
            }
        }
        finally
        {
            for (final RawHttp raw : uploads)
            {
                raw.close();
            }
        }
    }

    @Test
    @Timeout(60)
    void aSlowDurationPastAnIntIsCappedAndANonNumberIs400() throws Exception
    {
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /slow?ms=99999999999 HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals("slept 2000 ms\n", raw.read().text(), "capped at the maximum, not refused as 'not a number'");
            raw.send("GET /slow?ms=12x HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(400, raw.read().status());
        }
    }

    /** Reads a response head (up to the empty line) and nothing more. */
    private static String headOnly(final RawHttp raw) throws IOException
    {
        final InputStream in = raw.socket.getInputStream();
        final StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n"))
        {
            final int c = in.read();
            if (c < 0)
            {
                throw new IOException("closed in the middle of a head: " + head);
            }
            head.append((char)c);
        }
        return head.toString();
    }
}
