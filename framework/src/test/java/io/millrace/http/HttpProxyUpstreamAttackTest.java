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
 * Hostile and failing upstreams against the reverse proxy, over real loopback sockets: malformed or
 * lying responses, interim floods, resets, silence, death under load. Each test is an attack that
 * broke the proxy once or could have; the harness checks that nothing was left behind.
 */
@Timeout(60)
class HttpProxyUpstreamAttackTest extends ProxyAttackHarness
{
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
    void aBodyAnUpstreamSendsOnAHeadOr204NeverReachesTheClient() throws Exception
    {
        final ProxyTestBackend up = later(new ProxyTestBackend((head, body, out) ->
        {
            if (head.startsWith("HEAD"))
            {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nSMUGG".getBytes(StandardCharsets.US_ASCII));
            }
            else if (head.startsWith("DELETE"))
            {
                out.write("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad".getBytes(StandardCharsets.US_ASCII));
            }
            else
            {
                out.write(ProxyTestBackend.ok("hi"));
            }
            return true;
        }));
        start(b -> b, up.port());
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n");
            final RawHttpClient.Response h = c.read(true);
            assertEquals(200, h.status());
            assertEquals("5", h.header("Content-Length"));
            c.send("DELETE /d HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(204, c.read(true).status());
            for (int i = 0; i < 3; i++)
            {
                c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
                final RawHttpClient.Response r = c.read();
                assertEquals("hi", r.text(), "the upstream's stray bytes answer nothing");
            }
        }
    }
}
