package io.millrace.http;

import io.millrace.balance.UpstreamGroup;
import io.millrace.balance.UpstreamSpec;
import io.millrace.balance.UpstreamState;
import io.millrace.memory.LeakDetector;
import io.millrace.net.OutboundOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reverse proxy over real loopback sockets: a Millrace server with {@code proxy("/*", ...)} in
 * front of blocking test upstreams. Every test ends with every pooled chunk back and no leak
 * reported by the paranoid detector.
 */
@Timeout(120)
class HttpProxyTest
{
    private final LeakDetector leaks = LeakDetector.paranoid();
    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private HttpServer server;
    private HttpProxy proxy;

    private HttpServer start(final UpstreamGroup group, final java.util.function.UnaryOperator<HttpProxyBuilder> settings)
    {
        proxy = settings.apply(HttpProxy.builder(group).outbound(OutboundOptions.defaults()
            .connectTimeout(Duration.ofSeconds(2)).readTimeout(Duration.ofSeconds(5)))).build();
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks)
            .proxy("/*", proxy).start();
        return server;
    }

    private static UpstreamGroup group(final int... ports)
    {
        final List<UpstreamSpec> specs = new ArrayList<>();
        for (final int p : ports)
        {
            specs.add(UpstreamSpec.of("127.0.0.1", p));
        }
        return UpstreamGroup.builder().workers(2).passive(1, Duration.ofSeconds(30)).add(specs).build();
    }

    @AfterEach
    void everythingIsBack() throws Exception
    {
        if (server != null)
        {
            server.shutdown(Duration.ofSeconds(10));
            assertEquals(0, StreamedBodyTest.chunksInUse(server), "every pooled chunk is back after shutdown");
            assertEquals(0, server.outboundStats().open(), "no upstream connection is left");
        }
        for (final AutoCloseable c : closeLater)
        {
            c.close();
        }
        assertEquals(0, leaks.leaksReported(), "the paranoid leak detector reported no leak");
    }

    private <T extends AutoCloseable> T later(final T c)
    {
        closeLater.add(c);
        return c;
    }

    @Test
    void relaysRequestAndResponseWithoutHopByHopFieldsAndWithForwardingFields() throws Exception
    {
        final ProxyTestBackend backend = later(new ProxyTestBackend((head, body, out) ->
        {
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + (body.length + 3) + "\r\nConnection: keep-alive, X-Up-Secret\r\n" +
                "X-Up-Secret: s\r\nKeep-Alive: timeout=5\r\nX-Up: yes\r\n\r\nok:").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            return true;
        }));
        start(group(backend.port()), b -> b);
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("GET /a/b?q=1 HTTP/1.1\r\nHost: front\r\nConnection: keep-alive, X-Secret\r\nX-Secret: no\r\n" +
                "Keep-Alive: 5\r\nTE: trailers\r\nProxy-Authorization: x\r\nUpgrade: websocket\r\nX-Keep: yes\r\n\r\n");
            final RawHttpClient.Response r = c.read();
            assertEquals(200, r.status());
            assertEquals("ok:", r.text());
            assertEquals("yes", r.header("X-Up"));
            assertNull(r.header("X-Up-Secret"), "a field the upstream's Connection names does not cross");
            assertNull(r.header("Keep-Alive"));
            assertTrue(r.header("Via").endsWith("1.1 millrace"), r.header("Via"));
            c.send("POST /p HTTP/1.1\r\nHost: front\r\nContent-Length: 5\r\n\r\nhello");
            final RawHttpClient.Response p = c.read();
            assertEquals("ok:hello", p.text(), "the body crosses, and the connection carries a second request");
        }
        final String head = backend.heads.get(0);
        assertTrue(head.startsWith("GET /a/b?q=1 HTTP/1.1\r\nHost: 127.0.0.1:" + backend.port() + "\r\n"), head);
        for (final String hop : List.of("x-secret", "keep-alive", "te:", "proxy-authorization", "upgrade", "connection:"))
        {
            assertFalse(head.toLowerCase().contains(hop), hop + " must not cross: " + head);
        }
        assertTrue(head.contains("X-Keep: yes\r\n"), head);
        assertTrue(head.contains("X-Forwarded-For: 127.0.0.1\r\n"), head);
        assertTrue(head.contains("X-Forwarded-Proto: http\r\n"), head);
        assertTrue(head.contains("Forwarded: for=127.0.0.1;proto=http;host=front\r\n"), head);
        assertTrue(head.contains("Via: 1.1 millrace\r\n"), head);
        assertEquals(1, server.outboundStats().connects(), "the second request reused the pooled connection");
    }

    @Test
    void aRefusedUpstreamIsRetriedOnTheNextAndEjected() throws Exception
    {
        final int dead = closedPort();
        final ProxyTestBackend live = later(ProxyTestBackend.text("live"));
        start(group(dead, live.port()), b -> b.tries(2));
        for (int i = 0; i < 20; i++)
        {
            try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
            {
                c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                final RawHttpClient.Response r = c.read();
                assertEquals(200, r.status(), "request " + i + " was retried on the live upstream");
                assertEquals("live", r.text());
            }
        }
        assertEquals(UpstreamState.EJECTED, proxy.group().find("127.0.0.1:" + dead).state());
        assertTrue(proxy.retries() >= 1);
    }

    @Test
    void aPostIsNotRetriedOnceSentButAGetIs() throws Exception
    {
        final ProxyTestBackend silent = later(new ProxyTestBackend((head, body, out) -> false)); // reads, closes, no answer
        final ProxyTestBackend live = later(ProxyTestBackend.text("live"));
        final UpstreamGroup group = UpstreamGroup.builder().workers(2).passive(0, Duration.ofSeconds(30))
            .add(UpstreamSpec.of("127.0.0.1", silent.port()), UpstreamSpec.of("127.0.0.1", live.port())).build();
        start(group, b -> b.tries(2));
        int posts502 = 0;
        for (int i = 0; i < 10; i++)
        {
            try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
            {
                c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz");
                final int status = c.read().status();
                assertTrue(status == 200 || status == 502, "status " + status);
                posts502 += status == 502 ? 1 : 0;
            }
        }
        assertEquals(silent.requests.get(), posts502, "every POST the silent upstream took was a 502");
        assertTrue(posts502 > 0);
        for (int i = 0; i < 10; i++)
        {
            try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
            {
                c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, c.read().status(), "a GET goes on to the next upstream");
            }
        }
    }

    @Test
    void noUpstreamLeftIs502AndATimeoutIs504() throws Exception
    {
        final int dead = closedPort();
        final ProxyTestBackend slow = later(new ProxyTestBackend((head, body, out) ->
        {
            try
            {
                Thread.sleep(3_000);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
            return false;
        }));
        proxy = HttpProxy.builder(group(dead, slow.port())).tries(1).outbound(OutboundOptions.defaults()
            .readTimeout(Duration.ofMillis(300))).build();
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks)
            .proxy("/*", proxy).start();
        final List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
            {
                c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                statuses.add(c.read().status());
            }
        }
        assertTrue(statuses.contains(502), statuses.toString());
        assertTrue(statuses.contains(504), statuses.toString());
    }

    @Test
    void aSlowClientReadingA50MiBResponseKeepsTheProxysBuffersBounded() throws Exception
    {
        final int size = 50 << 20;
        final byte[] block = new byte[64 * 1024];
        final ProxyTestBackend big = later(new ProxyTestBackend((head, body, out) ->
        {
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            for (int sent = 0; sent < size; sent += block.length)
            {
                out.write(block);
            }
            return true;
        }));
        start(group(big.port()), b -> b);
        long maxChunks = 0;
        try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
        {
            s.setReceiveBufferSize(64 * 1024);
            s.setSoTimeout(20_000);
            s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            final InputStream in = s.getInputStream();
            // Not reading at all for a while: the upstream sends as fast as it can, so only the
            // proxy's pause keeps the response from piling up in its buffers.
            for (int i = 0; i < 50; i++)
            {
                Thread.sleep(10);
                maxChunks = Math.max(maxChunks, StreamedBodyTest.chunksInUse(server));
            }
            final byte[] buf = new byte[256 * 1024];
            long total = 0;
            int rounds = 0;
            int n;
            while ((n = in.read(buf)) > 0)
            {
                total += n;
                if (rounds++ % 16 == 0)
                {
                    maxChunks = Math.max(maxChunks, StreamedBodyTest.chunksInUse(server));
                    if (rounds < 200)
                    {
                        Thread.sleep(2); // slow at first, so the proxy must pause its upstream
                    }
                }
                if (total >= size + 40)
                {
                    break;
                }
            }
            assertTrue(total > size, "the whole body came: " + total);
        }
        // 16 KiB chunks: 50 MiB would be 3200; the proxy holds about one upstream cap plus one client cap.
        assertTrue(maxChunks < 200, "chunks in use at most " + maxChunks);
        assertTrue(proxy.clientPauses() > 0, "the upstream was paused for the slow client");
    }

    @Test
    void aClientThatLeavesMidResponseReleasesTheUpstreamAndItsBuffers() throws Exception
    {
        final int size = 20 << 20;
        final byte[] block = new byte[64 * 1024];
        final ProxyTestBackend big = later(new ProxyTestBackend((head, body, out) ->
        {
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            for (int sent = 0; sent < size; sent += block.length)
            {
                out.write(block);
            }
            return true;
        }));
        start(group(big.port()), b -> b);
        for (int i = 0; i < 3; i++)
        {
            try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
            {
                s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                s.getInputStream().readNBytes(100_000);
                s.setSoLinger(true, 0); // a reset
            }
        }
        for (int i = 0; i < 500 && (server.outboundStats().open() > 0 || StreamedBodyTest.chunksInUse(server) > 0); i++)
        {
            Thread.sleep(10);
        }
        assertEquals(0, server.outboundStats().open(), "the abandoned upstream connections were closed");
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, c.read(true).status(), "the proxy serves on");
        }
    }

    private static int closedPort() throws IOException
    {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            return s.getLocalPort();
        }
    }

}
