package io.millrace.demo;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests whose client went away are cancelled (499), so that they cannot jam the blocking pool:
 * 200 {@code /slow?ms=2000} requests behind a pool of 2 threads would hold it 200 s if each ran to
 * its end. Deterministic: it waits for counters, with bounds far below that, and never on speed.
 */
@Timeout(120)
class ClientGoneTest
{
    private static final int CLIENTS = 200;

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
    void slowRequestsOfClientsThatLeftAreCancelledAndThePoolStaysFree() throws Exception
    {
        server = new DemoServerFixture(root, "--max-connections", "1000"); // the 4-argument fixture allows 100
        final List<RawHttp> gone = new ArrayList<>();
        try
        {
            for (int i = 0; i < CLIENTS; i++)
            {
                final RawHttp c = new RawHttp(server.port());
                gone.add(c);
                c.send("GET /slow?ms=2000 HTTP/1.1\r\nHost: t\r\n\r\n");
                if (i % 2 == 0)
                {
                    c.close(); // gone entirely
                }
                else
                {
                    c.socket.shutdownOutput(); // FIN only: a client that stopped sending and waits
                }
            }
            // Meanwhile a fresh client is served, inline and on the blocking pool: the 200 requests
            // ahead of it in the pool's queue were cancelled, not slept through.
            try (RawHttp fresh = new RawHttp(server.port()))
            {
                fresh.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
                assertEquals(200, fresh.read().status());
                fresh.send("GET /slow?ms=10 HTTP/1.1\r\nHost: t\r\n\r\n");
                final RawHttp.Response slow = fresh.read(); // RawHttp waits 10 s at most: far below 200 s
                assertEquals(200, slow.status());
                assertEquals("slept 10 ms\n", slow.text());
            }
            awaitAtMost(Duration.ofSeconds(60), () -> server.service.httpStats().clientsGone(), CLIENTS,
                "every request of a client that left is counted as gone (499)");
            awaitAtMost(Duration.ofSeconds(60), () -> -server.service.pipeline().metrics().inFlight(), 0,
                "nothing stays in flight");
            assertEquals(CLIENTS, server.service.httpStats().clientsGone(), "no other request was counted");
            // The half-closed clients were not answered: the server closed their connections.
            for (int i = 1; i < CLIENTS; i += 2)
            {
                assertTrue(gone.get(i).closedByServer(), "half-closed client " + i + " is closed, not answered");
            }
            try (RawHttp fresh = new RawHttp(server.port()))
            {
                fresh.send("GET /slow?ms=10 HTTP/1.1\r\nHost: t\r\n\r\n");
                assertEquals(200, fresh.read().status(), "the pool serves after the storm");
            }
        }
        finally
        {
            for (final RawHttp c : gone)
            {
                closeQuietly(c);
            }
        }
    }

    @Test
    void withFinishHalfClosedAHalfClosedSlowRequestIsAnswered() throws Exception
    {
        server = new DemoServerFixture(root, "--finish-half-closed");
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /slow?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n");
            raw.socket.shutdownOutput();
            final RawHttp.Response r = raw.read();
            assertEquals(200, r.status());
            assertEquals("slept 100 ms\n", r.text());
            assertTrue(raw.closedByServer(), "then closed: the client will send nothing more");
        }
        assertEquals(0, server.service.httpStats().clientsGone());
    }

    @Test
    void withoutFinishHalfClosedAHalfClosedSlowRequestIsCancelled() throws Exception
    {
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /slow?ms=2000 HTTP/1.1\r\nHost: t\r\n\r\n");
            raw.socket.shutdownOutput();
            assertTrue(raw.closedByServer(), "closed without an answer (logged as 499)");
        }
        awaitAtMost(Duration.ofSeconds(30), () -> server.service.httpStats().clientsGone(), 1, "counted as gone");
        awaitAtMost(Duration.ofSeconds(30), () -> -server.service.pipeline().metrics().inFlight(), 0, "nothing in flight");
    }

    /** Waits until {@code value} reaches at least {@code target}; fails after {@code bound}. */
    static void awaitAtMost(final Duration bound, final LongSupplier value, final long target, final String what)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + bound.toNanos();
        long now;
        while ((now = value.getAsLong()) < target)
        {
            assertTrue(System.nanoTime() < deadline, what + ": still " + now + " (want " + target + ") after " + bound);
            Thread.sleep(10);
        }
    }

    private static void closeQuietly(final RawHttp c)
    {
        try
        {
            c.close();
        }
        catch (final IOException ignored)
        {
            // closing a test client
        }
    }
}
