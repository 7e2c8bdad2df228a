package io.millrace.demo;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Duties that need the transport change in {@code io.millrace.net} (a read-timeout callback, a
 * global connection limit, a busy flag that the idle timeout respects). Written now, disabled until
 * that change lands; enable each by removing its {@code @Disabled}.
 */
@Timeout(60)
class TransportDutiesTest
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
            assertEquals(0, server.leaks.leaksReported(), "the paranoid leak detector reported no leak");
        }
    }

    @Test
    @Disabled("needs the transport change: the read deadline calls HttpConnections.requestTimedOut instead of closing")
    void aRequestThatDoesNotArriveWholeInTimeGets408BeforeTheClose() throws Exception
    {
        server = new DemoServerFixture(root, "--request-timeout-ms", "300");
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /hello HTTP/1.1\r\nHost: t\r\n"); // the head never ends
            final RawHttp.Response r = raw.read();
            assertEquals(408, r.status(), "the client learns why: " + r.text());
            assertEquals("close", r.header("connection"));
            assertTrue(raw.closedByServer(), "then the connection closes");
        }
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("PUT /kv/k HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"); // the body never ends
            final RawHttp.Response r = raw.read();
            assertEquals(408, r.status(), r.text());
            assertTrue(raw.closedByServer());
        }
        assertEquals(2, server.service.httpStats().requestTimeouts());
        assertEquals(0, server.service.httpStats().bodyBytesHeld(), "the partial body was released");
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /kv/k HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(404, raw.read().status(), "the timed-out PUT stored nothing");
        }
    }

    @Test
    @Disabled("needs the transport change: --max-connections is a global limit, not a per-worker share")
    void theConnectionLimitIsGlobalAndAConnectionOverItGets503() throws Exception
    {
        // 3 over 2 workers: a per-worker share (2 each) would let a 4th in; a global limit does not.
        server = new DemoServerFixture(root, "--max-connections", "3");
        final List<RawHttp> open = new ArrayList<>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                final RawHttp c = new RawHttp(server.port());
                open.add(c);
                c.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
                assertEquals(200, c.read().status(), "connection " + i + " is within the limit");
            }
            try (RawHttp over = new RawHttp(server.port()))
            {
                over.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
                final RawHttp.Response r = over.read();
                assertEquals(503, r.status(), "the 4th connection is told, not reset: " + r.text());
                assertEquals("close", r.header("connection"));
                assertTrue(over.closedByServer());
            }
            assertEquals(1, server.service.transportStats().refused());
            open.remove(0).close();
            ClientGoneTest.awaitAtMost(Duration.ofSeconds(10), () -> -server.service.transportStats().open(), -2,
                "the closed connection leaves room");
            try (RawHttp again = new RawHttp(server.port()))
            {
                again.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
                assertEquals(200, again.read().status(), "a place freed is taken again");
            }
        }
        finally
        {
            for (final RawHttp c : open)
            {
                c.close();
            }
        }
    }

    @Test
    @Disabled("needs the transport change: a busy flag so that the idle timeout skips a connection with a request in process")
    void theIdleTimeoutNeverCutsOffARequestInProcess() throws Exception
    {
        server = new DemoServerFixture(root, "--idle-timeout-ms", "300");
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /slow?ms=1500 HTTP/1.1\r\nHost: t\r\n\r\n"); // five idle timeouts of silence while it runs
            final RawHttp.Response r = raw.read();
            assertEquals(200, r.status(), "answered, not closed as idle");
            assertEquals("slept 1500 ms\n", r.text());
            assertEquals(0, server.service.transportStats().idleTimeouts());
            assertTrue(raw.closedByServer(), "idle after its answer, the connection is closed");
            assertEquals(1, server.service.transportStats().idleTimeouts());
        }
        assertEquals(0, server.service.httpStats().clientsGone(), "the request was not cancelled");
    }
}
