package io.millrace.http;

import io.millrace.memory.LeakDetector;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server's own threads allocate nothing per request on the hot paths: an inline GET and a GET
 * that hops to a partition owner and back. Counted with the JVM's per-thread allocation counters
 * (exact, independent of the GC), over the pipeline's threads only; the client runs elsewhere.
 * The leak detector runs at its production level, as a server would. Allocation is deterministic
 * enough to assert; no timing is asserted.
 *
 * <p>One worker: with two, a request that hops to a parked worker wakes its selector, and the
 * JDK's {@code EPollSelectorImpl} allocates a small array for every such wakeup
 * ({@code EventFD.reset}), which a one-request-at-a-time client turns into several bytes per
 * request on an otherwise idle server. That cost is the JDK's and vanishes under load, when
 * workers do not park; the ring hop's own allocation is measured by the JMH suite.
 */
class HttpServerAllocationTest
{
    private static final HeaderBlock TEXT = HeaderBlock.TEXT_PLAIN;
    private static final byte[] HELLO = "Hello, World!\n".getBytes(StandardCharsets.US_ASCII);
    private static final int WARM_UP = 5_000;
    private static final int MEASURED = 20_000;

    @Test
    @Timeout(120)
    void helloAndAPartitionedGetAllocateUnderOneBytePerRequest() throws Exception
    {
        final HttpServerBuilder b = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(1)
            .name("alloc-test").leakDetector(LeakDetector.production());
        final Map<Integer, byte[]> values = new HashMap<>();
        values.put("k".hashCode(), "value".getBytes(StandardCharsets.US_ASCII));
        final StageRef<HttpExchange> hello = b.stage("hello", (x, ctx) -> x.respond(200, TEXT, HELLO));
        final StageRef<HttpExchange> kv = b.stage("kv", Placement.partitioned(HttpExchange::routeKeyHash),
            (x, ctx) -> x.respond(200, TEXT, values.get(x.routeKeyHash())));
        final StageRef<HttpExchange> text = b.stage("text", (x, ctx) -> x.respondText(200, "made per request\n"));
        b.route("GET", "/hello", hello).route("GET", "/kv/*", kv).route("GET", "/text", text);
        try (HttpServer server = b.start())
        {
            final double hello1 = bytesPerRequest(server, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            final double kv1 = bytesPerRequest(server, "GET /kv/k HTTP/1.1\r\nHost: t\r\n\r\n");
            System.out.printf("allocated per request by the server's threads: /hello %.3f B, /kv %.3f B%n", hello1, kv1);
            assertTrue(hello1 < 1.0, "GET /hello allocates " + hello1 + " B per request");
            assertTrue(kv1 < 1.0, "GET /kv/k allocates " + kv1 + " B per request");
            // The control: a handler that makes a String and an array per request is seen, so the
            // counters above watch the threads that do the work.
            final double control = bytesPerRequest(server, "GET /text HTTP/1.1\r\nHost: t\r\n\r\n");
            assertTrue(control >= 24, "respondText allocates per request and the count sees it: " + control);
        }
    }

    private static double bytesPerRequest(final HttpServer server, final String request) throws Exception
    {
        try (Socket s = new Socket())
        {
            s.connect(server.address(), 5_000);
            s.setSoTimeout(10_000);
            final OutputStream out = s.getOutputStream();
            final InputStream in = s.getInputStream();
            final byte[] bytes = request.getBytes(StandardCharsets.US_ASCII);
            exchange(out, in, bytes, WARM_UP);
            final long before = serverThreadsAllocated();
            exchange(out, in, bytes, MEASURED);
            final long after = serverThreadsAllocated();
            return (double)(after - before) / MEASURED;
        }
    }

    /** Sends one request at a time and reads its whole response (Content-Length framed). */
    private static void exchange(final OutputStream out, final InputStream in, final byte[] request, final int count)
        throws Exception
    {
        final byte[] buf = new byte[4096];
        for (int i = 0; i < count; i++)
        {
            out.write(request);
            out.flush();
            int have = 0;
            int need = -1;
            while (need < 0 || have < need)
            {
                final int n = in.read(buf, have, buf.length - have);
                assertTrue(n > 0, "the server closed the connection");
                have += n;
                if (need < 0)
                {
                    final String text = new String(buf, 0, have, StandardCharsets.ISO_8859_1);
                    final int end = text.indexOf("\r\n\r\n");
                    if (end >= 0)
                    {
                        assertTrue(text.startsWith("HTTP/1.1 200 "), text);
                        final int at = text.toLowerCase().indexOf("content-length: ");
                        final int length = Integer.parseInt(text.substring(at + 16, text.indexOf('\r', at)));
                        need = end + 4 + length;
                    }
                }
            }
            assertEquals(need, have, "one response per request");
        }
    }

    private static long serverThreadsAllocated()
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        long sum = 0;
        int found = 0;
        for (final Thread t : Thread.getAllStackTraces().keySet())
        {
            if (t.getName().contains("alloc-test"))
            {
                sum += threads.getThreadAllocatedBytes(t.threadId());
                found++;
            }
        }
        assertTrue(found >= 1, "the worker's thread is named after the pipeline");
        return sum;
    }
}
