package io.millrace.http;

import io.millrace.balance.UpstreamGroup;
import io.millrace.balance.UpstreamSpec;
import io.millrace.memory.LeakDetector;
import io.millrace.net.OutboundOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile upstreams and clients against the reverse proxy, over real loopback sockets: each test is
 * an attack that once broke (or could break) the proxy's framing, its retry rules or its resource
 * accounting. Every test ends with every pooled chunk back, no upstream connection open and no leak
 * reported by the paranoid detector, and checks that the proxy still serves.
 */
@Timeout(60)
class HttpProxyAttackTest
{
    private final LeakDetector leaks = LeakDetector.paranoid();
    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private HttpServer server;
    private HttpProxy proxy;

    private void start(final UnaryOperator<HttpProxyBuilder> settings, final int... ports)
    {
        final List<UpstreamSpec> specs = new ArrayList<>();
        for (final int p : ports)
        {
            specs.add(UpstreamSpec.of("127.0.0.1", p));
        }
        final UpstreamGroup group = UpstreamGroup.builder().workers(2).passive(0, Duration.ofSeconds(30)).add(specs).build();
        proxy = settings.apply(HttpProxy.builder(group).outbound(OutboundOptions.defaults()
            .connectTimeout(Duration.ofSeconds(2)).readTimeout(Duration.ofSeconds(5)))).build();
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks)
            .proxy("/*", proxy).start();
    }

    @AfterEach
    void everythingIsBack() throws Exception
    {
        if (server != null)
        {
            for (int i = 0; i < 300 && server.outboundStats().open() > server.outboundStats().idle(); i++)
            {
                Thread.sleep(10);
            }
            assertEquals(server.outboundStats().idle(), server.outboundStats().open(), "no upstream connection is leased after the attack");
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

    private void stillServes(final ProxyTestBackend backend) throws IOException
    {
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, c.read().status(), "the proxy still serves");
        }
    }

    /** Reads from {@code in} until {@code end} was seen (or the socket times out) and returns all of it. */
    private static String readUntil(final InputStream in, final String end) throws IOException
    {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();
        final byte[] buf = new byte[8192];
        try
        {
            int n;
            while ((n = in.read(buf)) > 0)
            {
                b.write(buf, 0, n);
                if (b.toString(StandardCharsets.ISO_8859_1).contains(end))
                {
                    break;
                }
            }
        }
        catch (final SocketTimeoutException stuck)
        {
            // return what came: the assertion says what was missing
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    // ------------------------------------------------------------------ framing of what the upstream sends

    @Test
    void aCloseDelimitedResponseEndsWithTheLastChunkForAnHttp11Client() throws Exception
    {
        final ProxyTestBackend up = later(new ProxyTestBackend((head, body, out) ->
        {
            if (head.startsWith("GET /hello"))
            {
                out.write(ProxyTestBackend.ok("hi"));
                return true;
            }
            out.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-the-close".getBytes(StandardCharsets.US_ASCII));
            return false; // the close ends the body
        }));
        start(b -> b, up.port());
        try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
        {
            s.setSoTimeout(3_000);
            s.getOutputStream().write("GET /close HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            final String got = readUntil(s.getInputStream(), "0\r\n\r\n");
            assertTrue(got.contains("Transfer-Encoding: chunked"), got);
            assertTrue(got.contains("until-the-close"), got);
            assertTrue(got.endsWith("\r\n0\r\n\r\n"), "the chunked body is terminated, or the client waits forever: " + got);
            s.getOutputStream().write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            final String second = readUntil(s.getInputStream(), "hi");
            assertTrue(second.startsWith("HTTP/1.1 200"), "the connection carries the next request: " + second);
        }
        stillServes(up);
    }

    @Test
    void aCloseDelimitedResponseReachesAnHttp10ClientWhole() throws Exception
    {
        final ProxyTestBackend up = later(new ProxyTestBackend((head, body, out) ->
        {
            out.write("HTTP/1.0 200 OK\r\n\r\nold-style-body".getBytes(StandardCharsets.US_ASCII));
            return false;
        }));
        start(b -> b, up.port());
        try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
        {
            s.setSoTimeout(3_000);
            s.getOutputStream().write("GET /x HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            final String got = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(got.startsWith("HTTP/1.1 200") && got.endsWith("\r\n\r\nold-style-body"), got);
        }
    }

    // ------------------------------------------------------------------ a POST is sent at most once

    @Test
    void aPostOnAPooledConnectionThatTheUpstreamClosesUnansweredIsNotSentAgain() throws Exception
    {
        // The upstream answers the first request on each connection; the second it reads whole, acts
        // on, and then drops the connection without an answer (a crash, a restart): the proxy cannot
        // tell that from the keep-alive race, so it must not send a POST again.
        final AtomicInteger posts = new AtomicInteger();
        final ProxyTestBackend up = later(new ProxyTestBackend(new ProxyTestBackend.Answer()
        {
            private final ThreadLocal<Integer> onThisConnection = ThreadLocal.withInitial(() -> 0);

            @Override
            public boolean answer(final String head, final byte[] body, final java.io.OutputStream out) throws IOException
            {
                final int n = onThisConnection.get();
                onThisConnection.set(n + 1);
                if (head.startsWith("POST"))
                {
                    posts.incrementAndGet();
                }
                if (n == 0)
                {
                    out.write(ProxyTestBackend.ok("first"));
                    return true;
                }
                return false;
            }
        }));
        start(b -> b.tries(1), up.port());
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("GET /warm HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, c.read().status());
            c.send("POST /order HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\norder");
            final int status = c.read().status();
            assertEquals(1, posts.get(), "the POST reached the upstream once (status " + status + ")");
            assertEquals(502, status);
        }
    }

    @Test
    void aGetOnAPooledConnectionThatTheUpstreamClosesUnansweredIsRetried() throws Exception
    {
        final ProxyTestBackend up = later(new ProxyTestBackend(new ProxyTestBackend.Answer()
        {
            private final ThreadLocal<Integer> onThisConnection = ThreadLocal.withInitial(() -> 0);

            @Override
            public boolean answer(final String head, final byte[] body, final java.io.OutputStream out) throws IOException
            {
                final int n = onThisConnection.get();
                onThisConnection.set(n + 1);
                if (n == 0)
                {
                    out.write(ProxyTestBackend.ok("fresh"));
                    return true;
                }
                return false;
            }
        }));
        start(b -> b.tries(1), up.port());
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            for (int i = 0; i < 3; i++)
            {
                c.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
                final RawHttpClient.Response r = c.read();
                assertEquals(200, r.status(), "request " + i + ": a stale pooled connection is retried on a fresh one");
                assertEquals("fresh", r.text());
            }
        }
    }

    // ------------------------------------------------------------------ misbehaving upstreams

    /** An upstream that answers every request with {@code raw} and then closes. */
    private ProxyTestBackend answering(final String raw) throws IOException
    {
        return later(new ProxyTestBackend((head, body, out) ->
        {
            if (head.startsWith("GET /hello"))
            {
                out.write(ProxyTestBackend.ok("hi"));
                return true;
            }
            out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
            return false;
        }));
    }

    private int statusThroughProxy(final String request) throws IOException
    {
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send(request);
            return c.read().status();
        }
    }

    @Test
    void malformedUpstreamHeadsAre502AndTheProxyServesOn() throws Exception
    {
        final String[] bad = {
            "garbage\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(200_000) + "\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        };
        for (final String raw : bad)
        {
            final ProxyTestBackend up = answering(raw);
            start(b -> b.tries(1), up.port());
            assertEquals(502, statusThroughProxy("GET /bad HTTP/1.1\r\nHost: x\r\n\r\n"),
                "a malformed head is the upstream's error: " + raw.substring(0, Math.min(60, raw.length())));
            stillServes(up);
            server.shutdown(Duration.ofSeconds(10));
            assertEquals(0, StreamedBodyTest.chunksInUse(server), "every chunk is back after " + raw.substring(0, Math.min(20, raw.length())));
            assertEquals(0, server.outboundStats().open());
            server = null;
        }
    }

    @Test
    void afewInterimHeadsAreDroppedAndAFloodIs502() throws Exception
    {
        final byte[] interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-A: b\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        final ProxyTestBackend up = later(new ProxyTestBackend((head, body, out) ->
        {
            final int pairs = head.startsWith("GET /flood") ? 5_000 : head.startsWith("GET /few") ? 4 : 0;
            for (int i = 0; i < pairs; i++)
            {
                out.write(interim);
            }
            out.write(ProxyTestBackend.ok("final"));
            return pairs < 1_000;
        }));
        start(b -> b.tries(1), up.port());
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("GET /few HTTP/1.1\r\nHost: x\r\n\r\n");
            final RawHttpClient.Response r = c.read();
            assertEquals(200, r.status(), "no interim head reaches the client");
            assertEquals("final", r.text());
        }
        // An upstream that sends 1xx heads without end would hold the exchange for ever: the parser's
        // bound (HttpResponseParser.MAX_INTERIM_RESPONSES) makes it the upstream's error.
        assertEquals(502, statusThroughProxy("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n"));
        stillServes(up);
    }

    @Test
    void aBodyShorterThanItsContentLengthCutsTheClientAndOneLongerIsTrimmed() throws Exception
    {
        final ProxyTestBackend up = later(new ProxyTestBackend((head, body, out) ->
        {
            if (head.startsWith("GET /short"))
            {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-ten!!".getBytes(StandardCharsets.US_ASCII));
                return false;
            }
            if (head.startsWith("GET /long"))
            {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfourHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsmuggl"
                    .getBytes(StandardCharsets.US_ASCII));
                return true;
            }
            out.write(ProxyTestBackend.ok("hi"));
            return true;
        }));
        start(b -> b, up.port());
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("GET /short HTTP/1.1\r\nHost: x\r\n\r\n");
            c.socket.setSoTimeout(3_000);
            final InputStream in = c.socket.getInputStream();
            final String got = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(got.startsWith("HTTP/1.1 200") && got.endsWith("only-ten!!"), "the client sees a cut-short body: " + got);
        }
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("GET /long HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals("four", c.read().text());
            c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            final RawHttpClient.Response next = c.read();
            assertEquals("hi", next.text(), "the upstream's surplus bytes never answer another request");
        }
    }

    @Test
    void anUpstreamThatNeverAnswersIs504AndAGetMovesOn() throws Exception
    {
        final ProxyTestBackend mute = later(new ProxyTestBackend((head, body, out) ->
        {
            try
            {
                Thread.sleep(5_000);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
            return false;
        }));
        final ProxyTestBackend live = later(ProxyTestBackend.text("live"));
        final List<UpstreamSpec> specs = List.of(UpstreamSpec.of("127.0.0.1", mute.port()), UpstreamSpec.of("127.0.0.1", live.port()));
        proxy = HttpProxy.builder(UpstreamGroup.builder().workers(2).passive(0, Duration.ofSeconds(30)).add(specs).build())
            .tries(2).outbound(OutboundOptions.defaults().readTimeout(Duration.ofMillis(300))).build();
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks)
            .proxy("/*", proxy).start();
        for (int i = 0; i < 4; i++)
        {
            assertEquals(200, statusThroughProxy("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"), "a GET goes on after the read timeout");
        }
        assertTrue(mute.requests.get() >= 1);
        final int before = mute.requests.get();
        int timedOut = 0;
        for (int i = 0; i < 4; i++)
        {
            final int status = statusThroughProxy("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz");
            assertTrue(status == 200 || status == 504, "status " + status);
            timedOut += status == 504 ? 1 : 0;
        }
        assertEquals(mute.requests.get() - before, timedOut, "every POST the mute upstream took timed out there, none went on");
    }

    // ------------------------------------------------------------------ hostile clients

    @Test
    void smugglingShapedRequestsNeverReachTheUpstream() throws Exception
    {
        final ProxyTestBackend up = later(ProxyTestBackend.text("hi"));
        start(b -> b, up.port());
        final String[] bad = {
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\nabcd",
            "GET / HTTP/1.1\nHost: x\n\n",
        };
        for (final String raw : bad)
        {
            final int status = statusThroughProxy(raw);
            assertTrue(status == 400 || status == 501, status + " for " + raw);
        }
        assertEquals(0, up.requests.get(), "not one of them crossed: " + up.heads);
        stillServes(up);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception
    {
        final ProxyTestBackend up = later(new ProxyTestBackend((head, body, out) ->
        {
            out.write(ProxyTestBackend.ok(head.substring(0, head.indexOf(" HTTP/")) + ":" + new String(body, StandardCharsets.US_ASCII)));
            return true;
        }));
        start(b -> b, up.port());
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                + "HEAD /3 HTTP/1.1\r\nHost: x\r\n\r\nGET /4 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals("GET /1:", c.read().text());
            assertEquals("POST /2:abc", c.read().text());
            assertEquals(200, c.read(true).status());
            assertEquals("GET /4:", c.read().text());
        }
    }

    @Test
    void aChunkedUploadWithBrokenFramingIs400AndDropsTheUpstreamAttempt() throws Exception
    {
        final ProxyTestBackend up = later(ProxyTestBackend.text("hi"));
        start(b -> b, up.port());
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            Thread.sleep(100); // the head went upstream: the body streams
            c.send("zz-not-hex\r\nabc\r\n");
            final int status = c.read().status();
            assertTrue(status == 400 || status == 200, "status " + status);
            assertTrue(c.closedByServer(), "the stream cannot be framed past the error");
        }
        stillServes(up);
    }

    @Test
    void aClientThatNeverReadsABigResponseIsCutByTheIdleTimeoutAndFreesTheUpstream() throws Exception
    {
        final int size = 50 << 20;
        final byte[] block = new byte[64 * 1024];
        final ProxyTestBackend big = later(new ProxyTestBackend((head, body, out) ->
        {
            if (head.startsWith("GET /hello"))
            {
                out.write(ProxyTestBackend.ok("hi"));
                return true;
            }
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            for (int sent = 0; sent < size; sent += block.length)
            {
                out.write(block);
            }
            return true;
        }));
        final UpstreamGroup group = UpstreamGroup.builder().workers(2).passive(0, Duration.ofSeconds(30))
            .add(UpstreamSpec.of("127.0.0.1", big.port())).build();
        proxy = HttpProxy.builder(group).build();
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks)
            .idleTimeout(Duration.ofMillis(500)).proxy("/*", proxy).start();
        final List<Socket> stuck = new ArrayList<>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                final Socket s = new Socket("127.0.0.1", server.address().getPort());
                s.setReceiveBufferSize(32 * 1024);
                stuck.add(s);
                s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            for (int i = 0; i < 100 && proxy.clientPauses() < 4; i++)
            {
                Thread.sleep(20);
            }
            assertTrue(proxy.clientPauses() >= 4, "every response filled its client's cap");
            // Nobody reads: nothing moves on those connections, so they are idle, not busy.
            for (int i = 0; i < 500 && server.outboundStats().open() > server.outboundStats().idle(); i++)
            {
                Thread.sleep(10);
            }
            assertEquals(server.outboundStats().idle(), server.outboundStats().open(),
                "a client that stopped reading does not hold its upstream connection for ever");
            assertTrue(StreamedBodyTest.chunksInUse(server) < 20, "nor its buffers: " + StreamedBodyTest.chunksInUse(server));
        }
        finally
        {
            for (final Socket s : stuck)
            {
                s.close();
            }
        }
        stillServes(big);
    }

    @Test
    void anUpstreamThatAcceptsAndNeverReadsAnUploadTimesOutAndLetsGo() throws Exception
    {
        final java.net.ServerSocket deaf = later(new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()));
        final List<Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
        final Thread acceptor = new Thread(() ->
        {
            try
            {
                while (true)
                {
                    final Socket s = deaf.accept();
                    s.setReceiveBufferSize(4096);
                    accepted.add(s); // never read, never answered
                }
            }
            catch (final IOException closed)
            {
                // the test is over
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        proxy = HttpProxy.builder(UpstreamGroup.builder().workers(2).passive(0, Duration.ofSeconds(30))
            .add(UpstreamSpec.of("127.0.0.1", deaf.getLocalPort())).build())
            .tries(1).outbound(OutboundOptions.defaults().readTimeout(Duration.ofMillis(500))).build();
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks)
            .maxBodyBytes(64 << 20).proxy("/*", proxy).start();
        final int size = 32 << 20;
        long maxChunks = 0;
        try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
        {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            final byte[] block = new byte[64 * 1024];
            final Thread writer = new Thread(() ->
            {
                try
                {
                    for (int sent = 0; sent < size; sent += block.length)
                    {
                        s.getOutputStream().write(block);
                    }
                }
                catch (final IOException cut)
                {
                    // the proxy gave up on this upload
                }
            });
            writer.setDaemon(true);
            writer.start();
            for (int i = 0; i < 50; i++)
            {
                Thread.sleep(10);
                maxChunks = Math.max(maxChunks, StreamedBodyTest.chunksInUse(server));
            }
            final String got = readUntil(s.getInputStream(), "\r\n\r\n");
            assertTrue(got.isEmpty() || got.startsWith("HTTP/1.1 504"), "a timeout, or a cut: " + got);
        }
        assertTrue(maxChunks < 200, "the stuck upload is bounded: " + maxChunks + " chunks");
        for (final Socket a : accepted)
        {
            a.close();
        }
        deaf.close();
    }

    @Test
    void aStreamedUploadOverTheBodyLimitIsStoppedAndTheUpstreamDropped() throws Exception
    {
        final ProxyTestBackend up = later(ProxyTestBackend.text("hi"));
        // An upstream that reads everything and answers nothing: only the body limit ends the upload.
        final java.net.ServerSocket sink = later(new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()));
        final Thread drain = new Thread(() ->
        {
            try (Socket a = sink.accept())
            {
                a.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            }
            catch (final IOException gone)
            {
                // reset by the proxy, or the test is over
            }
        });
        drain.setDaemon(true);
        drain.start();
        start(b -> b, sink.getLocalPort());
        try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
        {
            s.setSoTimeout(5_000);
            // chunked: the length is not known up front, so the limit (1 MiB by default) bites mid-stream
            s.getOutputStream().write("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            final byte[] chunk = ("10000\r\n" + "a".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            try
            {
                for (int i = 0; i < 64; i++)
                {
                    s.getOutputStream().write(chunk);
                }
            }
            catch (final IOException cut)
            {
                // closed on us: fine, the response may still be readable
            }
            final String got = readUntil(s.getInputStream(), "\r\n\r\n");
            assertTrue(got.isEmpty() || got.startsWith("HTTP/1.1 413"), got.substring(0, Math.min(200, got.length())));
        }
        for (int i = 0; i < 300 && server.outboundStats().open() > 0; i++)
        {
            Thread.sleep(10);
        }
        assertEquals(0, server.outboundStats().open(), "the upstream attempt was dropped");
        sink.close();
    }

    @Test
    void anUpstreamThatResetsOrBreaksChunkingMidResponseCutsTheClientOnly() throws Exception
    {
        final ProxyTestBackend up = later(new ProxyTestBackend((head, body, out) ->
        {
            if (head.startsWith("GET /reset"))
            {
                out.write(("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + "r".repeat(100_000)).getBytes(StandardCharsets.US_ASCII));
                out.flush();
                throw new IOException("reset below"); // ProxyTestBackend closes; a linger 0 close resets
            }
            if (head.startsWith("GET /badchunk"))
            {
                out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n".getBytes(StandardCharsets.US_ASCII));
                return true; // and wait: the proxy must give up on its own
            }
            out.write(ProxyTestBackend.ok("hi"));
            return true;
        }));
        start(b -> b, up.port());
        for (final String path : List.of("/reset", "/badchunk"))
        {
            try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
            {
                s.setSoTimeout(5_000);
                s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                final String got = readUntil(s.getInputStream(), "\u0000never");
                assertTrue(got.startsWith("HTTP/1.1 200") || got.startsWith("HTTP/1.1 502"), path + ": " + got.substring(0, Math.min(100, got.length())));
                assertFalse(got.endsWith("0\r\n\r\n"), path + ": a broken response never looks whole");
            }
        }
        stillServes(up);
    }

    @Test
    void runningOutOfBuffersMidRelayLeaksNoChunk() throws Exception
    {
        final int size = 20 << 20;
        final byte[] block = new byte[64 * 1024];
        final ProxyTestBackend big = later(new ProxyTestBackend((head, body, out) ->
        {
            if (head.startsWith("GET /hello"))
            {
                out.write(ProxyTestBackend.ok("hi"));
                return true;
            }
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            for (int sent = 0; sent < size; sent += block.length)
            {
                out.write(block);
            }
            return true;
        }));
        final UpstreamGroup group = UpstreamGroup.builder().workers(2).passive(0, Duration.ofSeconds(30))
            .add(UpstreamSpec.of("127.0.0.1", big.port())).build();
        proxy = HttpProxy.builder(group).build();
        // 3 MiB of buffers: a few clients that do not read take them all, so allocations fail mid-relay.
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks)
            .maxBufferMiB(3).proxy("/*", proxy).start();
        final List<Socket> stuck = new ArrayList<>();
        try
        {
            for (int i = 0; i < 16; i++)
            {
                final Socket s = new Socket("127.0.0.1", server.address().getPort());
                s.setReceiveBufferSize(32 * 1024);
                stuck.add(s);
                s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            Thread.sleep(1_000);
        }
        finally
        {
            for (final Socket s : stuck)
            {
                s.setSoLinger(true, 0);
                s.close();
            }
        }
        for (int i = 0; i < 500 && (server.outboundStats().open() > server.outboundStats().idle() || StreamedBodyTest.chunksInUse(server) > 8); i++)
        {
            Thread.sleep(10);
        }
        assertTrue(StreamedBodyTest.chunksInUse(server) <= 8, "every chunk came back once the clients left: "
            + StreamedBodyTest.chunksInUse(server) + " in use");
        stillServes(big);
    }

    // ------------------------------------------------------------------ hop-by-hop tricks

    @Test
    void hopByHopTricksNeitherBreakFramingNorLeakFields() throws Exception
    {
        final ProxyTestBackend up = later(new ProxyTestBackend((head, body, out) ->
        {
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + (body.length + 1) + "\r\nConnection: X-Drop\r\nX-Drop: 1\r\n\r\n=")
                .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            return true;
        }));
        start(b -> b, up.port());
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            // A client that names the framing fields in Connection must not make the proxy drop its body.
            c.send("POST /a HTTP/1.1\r\nHost: x\r\nConnection: Content-Length, Transfer-Encoding, Host\r\nContent-Length: 5\r\n\r\nhello");
            final RawHttpClient.Response r = c.read();
            assertEquals("=hello", r.text());
            assertEquals(null, r.header("X-Drop"), "what the upstream's Connection names stays behind");
            // absolute-form: the upstream gets origin-form and its own Host
            c.send("GET http://elsewhere.example/b?q=1 HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n");
            assertEquals(200, c.read().status());
            // Expect on a small (buffered) body: answered here, never forwarded
            c.send("PUT /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
            final RawHttpClient.Response interim = c.read();
            if (interim.status() == 100)
            {
                c.send("abc");
                assertEquals("=abc", c.read().text());
            }
            else
            {
                assertEquals(417, interim.status(), "100 Continue, or a refusal: " + interim.status());
            }
            // Connection: close is honoured end to end
            c.send("GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            final RawHttpClient.Response last = c.read();
            assertEquals("close", last.header("Connection"));
            assertTrue(c.closedByServer(), "the proxy closes after a Connection: close request");
        }
        assertTrue(up.heads.get(0).contains("Content-Length: 5\r\n"), up.heads.get(0));
        assertTrue(up.heads.get(1).startsWith("GET /b?q=1 HTTP/1.1\r\nHost: 127.0.0.1:" + up.port() + "\r\n"), up.heads.get(1));
        for (final String h : up.heads)
        {
            assertFalse(h.toLowerCase(java.util.Locale.ROOT).contains("expect:"), h);
            assertFalse(h.toLowerCase(java.util.Locale.ROOT).contains("connection:"), h);
        }
    }

    // ------------------------------------------------------------------ many at once

    @Test
    void aThousandClientsAtOnceAreAllAnsweredAndLeaveNothingLeased() throws Exception
    {
        final ProxyTestBackend up = later(new ProxyTestBackend((head, body, out) ->
        {
            try
            {
                Thread.sleep(20); // slow enough that many requests wait at once
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
            out.write(ProxyTestBackend.ok("hi"));
            return true;
        }));
        start(b -> b, up.port());
        final int n = 1_000;
        final List<Socket> clients = new ArrayList<>();
        final Map<Integer, Integer> statuses = new java.util.TreeMap<>();
        try
        {
            for (int i = 0; i < n; i++)
            {
                final Socket s = new Socket("127.0.0.1", server.address().getPort());
                s.setSoTimeout(30_000);
                clients.add(s);
                s.getOutputStream().write("GET /many HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            for (final Socket s : clients)
            {
                final String line = readUntil(s.getInputStream(), "hi");
                final int status = line.length() > 12 ? Integer.parseInt(line.substring(9, 12)) : -1;
                statuses.merge(status, 1, Integer::sum);
            }
        }
        finally
        {
            for (final Socket s : clients)
            {
                s.close();
            }
        }
        assertEquals(Map.of(200, n), statuses, "every client answered 200");
        stillServes(up);
    }

    @Test
    void aRequestPipelinedBehindAStreamedChunkedUploadIsServedNext() throws Exception
    {
        final ProxyTestBackend up = later(ProxyTestBackend.text("hi")); // reads Content-Length bodies only
        final java.net.ServerSocket chunkedUp = later(new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()));
        final Thread t = new Thread(() ->
        {
            // An upstream that reads the chunked body to its last chunk, then answers; one request per connection.
            while (!chunkedUp.isClosed())
            {
                try (Socket a = chunkedUp.accept())
                {
                    final InputStream in = a.getInputStream();
                    final String got = readUntil(in, "0\r\n\r\n");
                    final String body = got.contains("GET") ? "get" : "upload:" + got.length();
                    a.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body)
                        .getBytes(StandardCharsets.US_ASCII));
                }
                catch (final IOException closed)
                {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        start(b -> b.requestBuffering(0), chunkedUp.getLocalPort());
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                + "POST /next HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
            final RawHttpClient.Response first = c.read();
            assertEquals(200, first.status());
            assertTrue(first.text().startsWith("upload:"), first.text());
            final RawHttpClient.Response second = c.read();
            assertEquals(200, second.status(), "the pipelined request after the upload's end is its own request");
            assertTrue(second.text().startsWith("upload:"), second.text());
        }
        chunkedUp.close();
    }

    @Test
    void aSlowLorisHeadIsCutByTheRequestTimeoutWithoutReachingTheUpstream() throws Exception
    {
        final ProxyTestBackend up = later(ProxyTestBackend.text("hi"));
        proxy = HttpProxy.builder(UpstreamGroup.builder().workers(2).add(UpstreamSpec.of("127.0.0.1", up.port())).build()).build();
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks)
            .requestTimeout(Duration.ofMillis(400)).proxy("/*", proxy).start();
        final List<RawHttpClient> lorises = new ArrayList<>();
        try
        {
            for (int i = 0; i < 50; i++)
            {
                lorises.add(new RawHttpClient(server.address().getPort()).send("GET /slow HTTP/1.1\r\nHost: x\r\nX-A: "));
            }
            for (int round = 0; round < 3; round++)
            {
                Thread.sleep(200);
                for (final RawHttpClient l : lorises)
                {
                    try
                    {
                        l.send("a");
                    }
                    catch (final IOException cut)
                    {
                        // already cut: that is the point
                    }
                }
            }
            for (final RawHttpClient l : lorises)
            {
                try
                {
                    final RawHttpClient.Response r = l.read();
                    assertEquals(408, r.status());
                }
                catch (final IOException cut)
                {
                    // a reset instead of the 408 is as good
                }
            }
        }
        finally
        {
            for (final RawHttpClient l : lorises)
            {
                l.close();
            }
        }
        assertEquals(0, up.requests.get(), "no partial head reached the upstream");
        stillServes(up);
    }

    @Test
    void noPostReachesTheUpstreamsTwiceWhileOneDiesUnderLoad() throws Exception
    {
        final List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        final ProxyTestBackend.Answer slowOk = (head, body, out) ->
        {
            final int at = head.indexOf("X-Id: ");
            if (at >= 0)
            {
                seen.add(head.substring(at + 6, head.indexOf('\r', at)));
            }
            try
            {
                Thread.sleep(2); // requests in flight when the backend dies
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
            out.write(ProxyTestBackend.ok("ok"));
            return true;
        };
        final ProxyTestBackend a = later(new ProxyTestBackend(slowOk));
        final ProxyTestBackend b = new ProxyTestBackend(slowOk);
        start(x -> x.tries(2), a.port(), b.port());
        final AtomicInteger ids = new AtomicInteger();
        final Map<String, Integer> outcomes = new java.util.concurrent.ConcurrentHashMap<>();
        final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        final List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 4; t++)
        {
            final Thread client = new Thread(() ->
            {
                while (!stop.get())
                {
                    try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
                    {
                        for (int i = 0; i < 100 && !stop.get(); i++)
                        {
                            c.send("POST /order HTTP/1.1\r\nHost: x\r\nX-Id: " + ids.incrementAndGet() + "\r\nContent-Length: 1\r\n\r\nz");
                            outcomes.merge("status " + c.read().status(), 1, Integer::sum);
                        }
                    }
                    catch (final IOException ex)
                    {
                        outcomes.merge("cut", 1, Integer::sum);
                    }
                }
            });
            client.start();
            clients.add(client);
        }
        while (seen.size() < 300)
        {
            Thread.sleep(5);
        }
        b.close(); // dies with requests read and unanswered on its pooled connections
        final int atDeath = seen.size();
        while (seen.size() < atDeath + 300)
        {
            Thread.sleep(5);
        }
        stop.set(true);
        for (final Thread t : clients)
        {
            t.join(20_000);
        }
        final java.util.Set<String> unique = new java.util.HashSet<>();
        final List<String> twice = new ArrayList<>();
        for (final String id : seen)
        {
            if (!unique.add(id))
            {
                twice.add(id);
            }
        }
        assertTrue(twice.isEmpty(), "POSTs that reached an upstream twice: " + twice + "; outcomes " + outcomes);
        stillServes(a);
    }

    @Test
    void oddTargetsAndMethodsAreRefusedHereNotRelayed() throws Exception
    {
        final ProxyTestBackend up = later(ProxyTestBackend.text("hi"));
        start(b -> b, up.port());
        final StringBuilder manyFields = new StringBuilder("GET /many HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 5_000; i++)
        {
            manyFields.append("X-").append(i).append(": v\r\n");
        }
        final String[] odd = {
            "CONNECT upstream.example:443 HTTP/1.1\r\nHost: upstream.example:443\r\n\r\n",
            "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /" + "a".repeat(100_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
            manyFields.append("\r\n").toString(),
            "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
            "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n",
        };
        for (final String raw : odd)
        {
            int status;
            try
            {
                status = statusThroughProxy(raw);
            }
            catch (final IOException cut)
            {
                status = 0; // closed on us: refused too
            }
            assertTrue(status == 0 || status >= 400 && status < 500 || status == 501 || status == 505,
                status + " for " + raw.substring(0, Math.min(40, raw.length())));
        }
        for (final String h : up.heads)
        {
            assertFalse(h.startsWith("CONNECT") || h.startsWith("TRACE"), "relayed: " + h);
        }
        stillServes(up);
    }

    @Test
    void anHttp10ClientGetsAChunkedUpstreamBodyDecodedAndKeepsAliveOnALength() throws Exception
    {
        final ProxyTestBackend up = later(new ProxyTestBackend((head, body, out) ->
        {
            if (head.startsWith("GET /chunked"))
            {
                out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
                return true;
            }
            out.write(ProxyTestBackend.ok("hi"));
            return true;
        }));
        start(b -> b, up.port());
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("GET /len HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            final RawHttpClient.Response r = c.read();
            assertEquals("hi", r.text());
            assertEquals("keep-alive", r.header("Connection"));
            c.send("GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            c.socket.setSoTimeout(3_000);
            final String got = new String(c.socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(got.startsWith("HTTP/1.1 200") && got.endsWith("\r\n\r\nabcde"), "decoded, read to the close: " + got);
            assertFalse(got.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding"), got);
        }
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
            c.socket.setSoTimeout(3_000);
            final String got = readUntil(c.socket.getInputStream(), "0\r\n\r\n");
            assertTrue(got.contains("\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), "re-chunked without the extension: " + got);
            c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals("hi", c.read().text(), "and the connection carries on");
        }
    }

    @Test
    void clientsThatResetWhileTheUpstreamThinksLeaveNothingBehind() throws Exception
    {
        final ProxyTestBackend up = later(new ProxyTestBackend((head, body, out) ->
        {
            try
            {
                Thread.sleep(head.startsWith("GET /hello") ? 0 : 300);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
            out.write(ProxyTestBackend.ok("hi"));
            return true;
        }));
        start(b -> b, up.port());
        for (int i = 0; i < 20; i++)
        {
            try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
            {
                // a GET, a buffered POST, half a buffered body: each reset while the proxy waits
                final String request = i % 3 == 0 ? "GET /think HTTP/1.1\r\nHost: x\r\n\r\n"
                    : i % 3 == 1 ? "POST /think HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
                    : "POST /think HTTP/1.1\r\nHost: x\r\nContent-Length: 40000\r\n\r\n" + "x".repeat(20_000);
                s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                Thread.sleep(20);
                s.setSoLinger(true, 0);
            }
        }
        for (int i = 0; i < 300 && server.outboundStats().open() > server.outboundStats().idle(); i++)
        {
            Thread.sleep(10);
        }
        assertEquals(server.outboundStats().idle(), server.outboundStats().open(), "every abandoned exchange let its upstream go");
        stillServes(up);
    }
}
