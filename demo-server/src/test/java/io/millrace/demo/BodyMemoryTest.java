package io.millrace.demo;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What request bodies cost in pooled memory, per connection: a body in progress holds what has
 * arrived plus at most two chunks, however small the reads that brought it; a body that was
 * answered holds nothing, so a 1 MiB PUT followed by an idle keep-alive connection keeps no MiB.
 */
@Timeout(120)
class BodyMemoryTest
{
    private static final int CONNECTIONS = 50;
    private static final int MIB = 1 << 20;
    private static final int CHUNK = 16 * 1024;

    @TempDir
    Path root;

    private DemoServerFixture server;

    // The store's byte limit is split evenly over its partitions: 4 GiB gives each room for many MiB.

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
    void aOneMiBPutFollowedByAnIdleKeepAliveHoldsNoBody() throws Exception
    {
        server = new DemoServerFixture(root, "--kv-max-mib", "4096");
        final byte[] value = new byte[MIB];
        Arrays.fill(value, (byte)'v');
        final List<RawHttp> idle = new ArrayList<>();
        try
        {
            for (int i = 0; i < CONNECTIONS; i++)
            {
                final RawHttp c = new RawHttp(server.port());
                idle.add(c);
                final OutputStream out = c.socket.getOutputStream();
                out.write(("PUT /kv/big" + i + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + MIB + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
                out.write(value);
                out.flush();
                assertEquals(201, c.read().status(), "PUT " + i);
            }
            // All 50 stay open and idle. Chunks are counted from this thread: poll until settled.
            final long chunks = settle(() -> server.chunksInUse(), 2L * CONNECTIONS);
            System.out.printf("BodyMemoryTest: %d chunks in use with %d idle connections after 1 MiB PUTs (%.2f per connection)%n",
                chunks, CONNECTIONS, chunks / (double)CONNECTIONS);
            assertTrue(chunks <= 2L * CONNECTIONS, "an idle connection holds at most 2 chunks, not the 64 of its last body: " +
                chunks + " for " + CONNECTIONS);
            awaitBodiesReleased();
            assertEquals(CONNECTIONS, server.service.transportStats().open(), "the connections are still open");
            // And they are still usable.
            final RawHttp first = idle.get(0);
            first.send("GET /kv/big" + (CONNECTIONS - 1) + " HTTP/1.1\r\nHost: t\r\n\r\n");
            assertArrayEquals(value, first.read().body());
        }
        finally
        {
            closeAll(idle);
        }
    }

    @Test
    void aBodyTrickledInSmallWritesHoldsWhatArrivedPlusAtMostTwoChunks() throws Exception
    {
        server = new DemoServerFixture(root, "--kv-max-mib", "4096");
        final int sent = 256 * 1024;
        final byte[] piece = new byte[1024];
        Arrays.fill(piece, (byte)'t');
        final List<RawHttp> uploads = new ArrayList<>();
        long heads = 0;
        try
        {
            for (int i = 0; i < CONNECTIONS; i++)
            {
                final RawHttp c = new RawHttp(server.port());
                uploads.add(c);
                final String head = "PUT /kv/t" + i + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + MIB + "\r\n\r\n";
                c.send(head);
                heads += head.length();
            }
            // 256 KiB of each body, in 1 KiB writes taking turns over the connections.
            for (int at = 0; at < sent; at += piece.length)
            {
                for (final RawHttp c : uploads)
                {
                    c.socket.getOutputStream().write(piece);
                }
            }
            final long arrived = (long)CONNECTIONS * sent;
            final long headBytes = heads;
            ClientGoneTest.awaitAtMost(Duration.ofSeconds(30), () -> server.service.transportStats().bytesRead(),
                headBytes + arrived, "the server read every byte sent");
            final long chunks = settle(() -> server.chunksInUse(), CONNECTIONS * (sent / CHUNK + 2L));
            final long held = server.service.httpStats().bodyBytesHeld();
            System.out.printf("BodyMemoryTest: %d chunks in use for %d bodies of %d KiB so far (%.2f per body), %d KiB charged%n",
                chunks, CONNECTIONS, sent / 1024, chunks / (double)CONNECTIONS, held / 1024);
            assertTrue(chunks <= CONNECTIONS * (sent / CHUNK + 2L),
                "each body holds its bytes plus two chunks at most: " + chunks + " chunks for " + CONNECTIONS);
            assertTrue(held >= arrived && held <= arrived + 2L * CHUNK * CONNECTIONS,
                "charged what arrived, in whole chunks, not what was announced: " + held);
            assertEquals(0, held % CHUNK, "kept bodies are charged whole chunks");
            // The rest of each body, then the answers; after them nothing is held.
            final byte[] rest = new byte[MIB - sent];
            Arrays.fill(rest, (byte)'t');
            for (final RawHttp c : uploads)
            {
                c.socket.getOutputStream().write(rest);
                assertEquals(201, c.read().status());
            }
            awaitBodiesReleased();
            final long after = settle(() -> server.chunksInUse(), 2L * CONNECTIONS);
            assertTrue(after <= 2L * CONNECTIONS, "idle again: " + after + " chunks");
        }
        finally
        {
            closeAll(uploads);
        }
    }

    @Test
    void aChunkedOneMiBPutInTinyChunksHoldsNothingOnceAnswered() throws Exception
    {
        server = new DemoServerFixture(root, "--kv-max-mib", "4096");
        final StringBuilder body = new StringBuilder(MIB + MIB / 2);
        final String chunk = "x".repeat(1000);
        for (int n = 0; n < MIB; n += chunk.length())
        {
            final String c = n + chunk.length() <= MIB ? chunk : chunk.substring(0, MIB - n);
            body.append(Integer.toHexString(c.length())).append("\r\n").append(c).append("\r\n");
        }
        body.append("0\r\n\r\n");
        final List<RawHttp> idle = new ArrayList<>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                final RawHttp c = new RawHttp(server.port());
                idle.add(c);
                c.send("PUT /kv/c" + i + " HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
                assertEquals(201, c.read().status());
            }
            final long chunks = settle(() -> server.chunksInUse(), 20);
            assertTrue(chunks <= 20, "10 idle connections after chunked 1 MiB PUTs: " + chunks + " chunks");
            awaitBodiesReleased();
            idle.get(0).send("GET /kv/c9 HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(MIB, idle.get(0).read().body().length, "the whole decoded body was stored");
        }
        finally
        {
            closeAll(idle);
        }
    }

    @Test
    void bodiesOfAFewBytesAreChargedTheChunksTheyHoldSoTheyCannotTakeTheBuffersOthersNeed() throws Exception
    {
        // Defaults: 64 MiB of buffers (4,096 chunks of 16 KiB) and a 32 MiB body budget. Each hostile
        // body sends one byte with its head and one more later: two bytes, but two chunks held (the
        // first part is a slice of the input chunk, the second a chunk of the body's own). Charged
        // by the byte, 2,100 of them took the whole pool past a budget that showed 4 KiB in use.
        server = new DemoServerFixture(root, "--max-connections", "10000"); // the 4-argument fixture allows 100
        final int hostile = 2_100;
        final List<RawHttp> clients = new ArrayList<>();
        try
        {
            long heads = 0;
            for (int i = 0; i < hostile; i++)
            {
                final RawHttp c = new RawHttp(server.port());
                clients.add(c);
                final String first = "PUT /kv/tiny" + i + " HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\nx";
                c.send(first);
                heads += first.length();
            }
            final long headBytes = heads;
            ClientGoneTest.awaitAtMost(Duration.ofSeconds(60), () -> server.service.transportStats().bytesRead(), headBytes,
                "the server read the heads and first bytes");
            for (final RawHttp c : clients)
            {
                try
                {
                    c.send("y");
                }
                catch (final IOException refusedAndClosed)
                {
                    // a body refused (503) and its connection closed: allowed
                }
            }
            settle(() -> server.service.transportStats().bytesRead() + server.service.httpStats().bodyBudgetRefusals());
            final long chunks = server.chunksInUse();
            System.out.printf("BodyMemoryTest: %d two-byte bodies: %d chunks in use, %d bytes charged, %d refusals, %d exhaustions%n",
                hostile, chunks, server.service.httpStats().bodyBytesHeld(), server.service.httpStats().bodyBudgetRefusals(),
                server.service.arena().exhaustions());
            assertEquals(0, server.service.arena().exhaustions(), "the bodies never took the last buffers: the budget refused them first");
            assertTrue(server.service.httpStats().bodyBudgetRefusals() > 0, "two chunks each for 2,100 bodies is past the budget");
            assertTrue(chunks <= (32L << 20) / CHUNK + 64, "bodies hold no more chunks than the budget allows: " + chunks);
            assertTrue(server.service.httpStats().bodyBytesHeld() <= 32L << 20);
            for (int i = 0; i < 10; i++)
            {
                try (RawHttp fresh = new RawHttp(server.port()))
                {
                    fresh.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
                    assertEquals(200, fresh.read().status(), "a fresh client is served while the tiny bodies wait");
                }
            }
        }
        finally
        {
            closeAll(clients);
        }
    }

    /**
     * Waits (at most 10 s) until no body is charged: a body is released just after its response is
     * queued, so the client may read the response a moment before the release.
     */
    private void awaitBodiesReleased() throws InterruptedException
    {
        ClientGoneTest.awaitAtMost(Duration.ofSeconds(10), () -> -server.service.httpStats().bodyBytesHeld(), 0,
            "every body answered is released from the budget");
    }

    /** Waits (at most 30 s) until a sum of counters stops moving for 300 ms. */
    private static void settle(final java.util.function.LongSupplier counters) throws InterruptedException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        long last = counters.getAsLong();
        int still = 0;
        while (still < 15 && System.nanoTime() < deadline)
        {
            Thread.sleep(20);
            final long now = counters.getAsLong();
            still = now == last ? still + 1 : 0;
            last = now;
        }
    }

    /**
     * Reads a gauge that other threads update until it is at most {@code bound} or stops changing
     * (then the caller's assertion reports it), within 10 s.
     */
    private static long settle(final java.util.function.LongSupplier gauge, final long bound) throws InterruptedException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long value = gauge.getAsLong();
        while (value > bound && System.nanoTime() < deadline)
        {
            Thread.sleep(20);
            value = gauge.getAsLong();
        }
        return value;
    }

    private static void closeAll(final List<RawHttp> clients)
    {
        for (final RawHttp c : clients)
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
}
