package io.millrace.http;

import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.LeakDetector;
import io.millrace.metrics.WorkerMetrics;
import io.millrace.stage.StageRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A route with a {@link BodyListener} over real sockets: a 5 MiB chunked upload reaches the
 * listener in parts as it arrives, whole and in order, the stage runs once after the last part, and
 * the server never holds more than one part of it; a listener that throws fails its request alone.
 */
@Timeout(60)
class StreamedBodyTest
{
    private static final int FIVE_MIB = 5 << 20;

    private final LeakDetector leaks = LeakDetector.paranoid();
    /** Per request: bytes, parts, CRC32 of the bytes; filled by the listener, read by the stage. */
    private final Map<HttpExchange, long[]> seen = new ConcurrentHashMap<>();
    private final Map<HttpExchange, CRC32> crcs = new ConcurrentHashMap<>();
    private final AtomicLong maxHeldDuringParts = new AtomicLong();
    private final Set<Integer> listenerFailedOn = ConcurrentHashMap.newKeySet();
    private HttpServer server;

    @BeforeEach
    void start()
    {
        final HttpServerBuilder b = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2)
            .maxBodyBytes(8 << 20).bodyMemory(1 << 20).maxBufferMiB(8).leakDetector(leaks);
        final StageRef<HttpExchange> upload = b.stage("upload", (x, ctx) ->
        {
            assertNull(x.body(), "a streamed body is not kept");
            final long[] s = seen.remove(x);
            final CRC32 crc = crcs.remove(x);
            return x.respondText(200, s == null ? "none\n" : s[0] + " " + s[1] + " " + crc.getValue() + "\n");
        });
        final StageRef<HttpExchange> never = b.stage("never", (x, ctx) -> x.respondText(200, "should not run\n"));
        final StageRef<HttpExchange> who = b.stage("who", (x, ctx) -> x.respondText(200, x.workerIndex() + "\n"));
        b.route("PUT, POST", "/upload", upload, this::count)
            .route("PUT", "/bad", never, (x, part) ->
            {
                listenerFailedOn.add(x.workerIndex());
                throw new IllegalStateException("a listener that fails (on purpose, in a test)");
            })
            .route("GET", "/who", who);
        server = b.start();
    }

    private void count(final HttpExchange x, final BufferChain part)
    {
        final long[] s = seen.computeIfAbsent(x, k -> new long[2]);
        final CRC32 crc = crcs.computeIfAbsent(x, k -> new CRC32());
        s[0] += part.readableBytes();
        s[1]++;
        for (BufferDescriptor d = part.first(); d != null; d = d.next())
        {
            final ByteBuffer view = d.readableBuffer();
            crc.update(view.duplicate());
        }
        maxHeldDuringParts.accumulateAndGet(server.stats().bodyBytesHeld(), Math::max);
    }

    @AfterEach
    void everyBufferIsBack()
    {
        server.shutdown(Duration.ofSeconds(10));
        assertEquals(0, chunksInUse(server), "every pooled chunk is back after shutdown");
        assertEquals(0, leaks.leaksReported(), "the paranoid leak detector reported no leak");
    }

    @Test
    void aFiveMiBChunkedUploadArrivesInPartsAndIsNeverHeldWhole() throws Exception
    {
        final byte[] data = new byte[FIVE_MIB];
        new Random(7).nextBytes(data);
        final CRC32 expected = new CRC32();
        expected.update(data);
        try (RawHttpClient raw = new RawHttpClient(port()))
        {
            final OutputStream out = raw.socket.getOutputStream();
            out.write("PUT /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            final int chunk = 40_000; // not a power of two: chunk boundaries fall anywhere in the server's reads
            for (int at = 0; at < data.length; at += chunk)
            {
                final int n = Math.min(chunk, data.length - at);
                out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(data, at, n);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final RawHttpClient.Response r = raw.read();
            assertEquals(200, r.status(), r.text());
            final String[] fields = r.text().trim().split(" ");
            assertEquals(FIVE_MIB, Long.parseLong(fields[0]), "the listener saw every byte");
            assertTrue(Long.parseLong(fields[1]) > 1, "in more than one part: " + fields[1]);
            assertEquals(expected.getValue(), Long.parseLong(fields[2]), "in order, unchanged");
            // The connection goes on after a streamed body.
            raw.send("GET /who HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, raw.read().status());
        }
        assertEquals(0, server.stats().bodyBytesHeld(), "nothing charged once the request is answered");
        assertTrue(maxHeldDuringParts.get() <= 64 * 1024,
            "at most one read's worth is held while a part is handed over, not the body: " + maxHeldDuringParts.get());
        assertEquals(0, server.stats().bodyBudgetRefusals(), "5 MiB streamed under a 1 MiB body budget");
    }

    @Test
    void aContentLengthUploadIsStreamedToo() throws Exception
    {
        final byte[] data = new byte[3 << 20];
        new Random(3).nextBytes(data);
        final CRC32 expected = new CRC32();
        expected.update(data);
        try (RawHttpClient raw = new RawHttpClient(port()))
        {
            raw.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + data.length + "\r\n\r\n");
            raw.socket.getOutputStream().write(data);
            final String[] fields = raw.read().text().trim().split(" ");
            assertEquals(data.length, Long.parseLong(fields[0]));
            assertEquals(expected.getValue(), Long.parseLong(fields[2]));
        }
        assertEquals(0, server.stats().bodyBytesHeld());
    }

    @Test
    void aListenerThatThrowsGets500AndTheWorkerServesTheNextConnection() throws Exception
    {
        // Until the listener has failed on both workers (connections are spread over them).
        for (int i = 0; i < 64 && listenerFailedOn.size() < 2; i++)
        {
            try (RawHttpClient raw = new RawHttpClient(port()))
            {
                raw.send("PUT /bad HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
                final RawHttpClient.Response r = raw.read();
                assertEquals(500, r.status());
                assertEquals("close", r.header("connection"), "the rest of the body cannot be framed: the connection closes");
                assertTrue(raw.closedByServer());
            }
        }
        assertEquals(Set.of(0, 1), listenerFailedOn, "the listener failed on every worker");
        assertTrue(server.stats().handlerErrors() >= 2);
        assertEquals(0, server.stats().bodyBytesHeld(), "the failed requests' parts were released");
        final Set<Integer> served = new HashSet<>();
        for (int i = 0; i < 64 && served.size() < 2; i++)
        {
            try (RawHttpClient raw = new RawHttpClient(port()))
            {
                raw.send("GET /who HTTP/1.1\r\nHost: t\r\n\r\n");
                final RawHttpClient.Response r = raw.read();
                assertEquals(200, r.status());
                served.add(Integer.parseInt(r.text().trim()));
            }
        }
        assertEquals(Set.of(0, 1), served, "both workers serve new connections afterwards");
        assertNull(server.pipeline().failure(), "the pipeline did not fail");
    }

    private int port()
    {
        return server.address().getPort();
    }

    static long chunksInUse(final HttpServer server)
    {
        long live = 0;
        for (final WorkerMetrics w : server.metrics().workers())
        {
            live += w.bufferChunks().live();
        }
        return live;
    }
}
