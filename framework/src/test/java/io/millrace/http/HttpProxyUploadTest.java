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
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Uploads through the reverse proxy over real loopback sockets: bodies above the request-buffering
 * limit stream to the upstream as they arrive, with backpressure both ways; smaller ones are whole
 * first and retried as before. Every test ends with every pooled chunk back and no leak.
 */
@Timeout(120)
class HttpProxyUploadTest
{
    private static final int BLOCK = 64 * 1024;

    private final LeakDetector leaks = LeakDetector.paranoid();
    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private HttpServer server;
    private HttpProxy proxy;

    private void start(final UpstreamGroup group, final java.util.function.UnaryOperator<HttpProxyBuilder> settings)
    {
        proxy = settings.apply(HttpProxy.builder(group).outbound(OutboundOptions.defaults()
            .connectTimeout(Duration.ofSeconds(2)).readTimeout(Duration.ofSeconds(10)))).build();
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks)
            .maxBodyBytes(64 << 20).proxy("/*", proxy).start();
    }

    private static UpstreamGroup group(final int... ports)
    {
        final List<UpstreamSpec> specs = new ArrayList<>();
        for (final int p : ports)
        {
            specs.add(UpstreamSpec.of("127.0.0.1", p));
        }
        return UpstreamGroup.builder().workers(2).passive(0, Duration.ofSeconds(30)).add(specs).build();
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

    // ------------------------------------------------------------------ tests

    @Test
    void a50MiBUploadToASlowReadingUpstreamKeepsTheProxysChunksBounded() throws Exception
    {
        final long size = 50L << 20;
        final UploadBackend slow = later(new UploadBackend(UploadBackend.Mode.SLOW));
        start(group(slow.port()), b -> b);
        final AtomicLong maxChunks = new AtomicLong();
        final Thread sampler = sampler(maxChunks);
        try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
        {
            s.setSoTimeout(60_000);
            final OutputStream out = s.getOutputStream();
            out.write(("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            final byte[] block = pattern();
            for (long sent = 0; sent < size; sent += BLOCK)
            {
                out.write(block);
            }
            final RawHttpClient.Response r = read(s);
            assertEquals(200, r.status());
            assertEquals("got " + size + " intact", r.text());
        }
        finally
        {
            sampler.interrupt();
            sampler.join();
        }
        assertEquals("PUT /up HTTP/1.1", slow.heads.get(0).split("\r\n")[0]);
        assertTrue(slow.heads.get(0).contains("Content-Length: " + size + "\r\n"), "the length is kept: " + slow.heads.get(0));
        // 16 KiB chunks: 50 MiB would be 3200; the proxy holds about one client input cap plus the
        // upstream's write watermark.
        assertTrue(maxChunks.get() < 200, "chunks in use at most " + maxChunks.get());
        assertTrue(server.outboundStats().writePauses() > 0, "the slow upstream made the proxy stop taking the body");
    }

    @Test
    void aChunkedUploadStreamsChunkedAndTheConnectionServesOn() throws Exception
    {
        final UploadBackend backend = later(new UploadBackend(UploadBackend.Mode.SLOW));
        start(group(backend.port()), b -> b);
        final long size = 8L << 20;
        final AtomicLong maxChunks = new AtomicLong();
        final Thread sampler = sampler(maxChunks);
        try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
        {
            s.setSoTimeout(60_000);
            final OutputStream out = s.getOutputStream();
            out.write("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            final byte[] block = pattern();
            for (long sent = 0; sent < size; sent += BLOCK)
            {
                out.write((Integer.toHexString(BLOCK) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(block);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            // A second request on the same connection: the first body was read exactly to its end.
            out.write("GET /after HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("got " + size + " intact", read(s).text());
            assertEquals("got 0 intact", read(s).text());
        }
        finally
        {
            sampler.interrupt();
            sampler.join();
        }
        assertTrue(backend.heads.get(0).toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked"), backend.heads.get(0));
        assertTrue(maxChunks.get() < 200, "chunks in use at most " + maxChunks.get());
    }

    @Test
    void expectContinueIsAnsweredAndTheBodyStreams() throws Exception
    {
        final UploadBackend backend = later(new UploadBackend(UploadBackend.Mode.FAST));
        start(group(backend.port()), b -> b.requestBuffering(0));
        final int size = 1 << 20;
        try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
        {
            s.setSoTimeout(20_000);
            final OutputStream out = s.getOutputStream();
            out.write(("POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " + size + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            final InputStream in = s.getInputStream();
            final byte[] interim = in.readNBytes("HTTP/1.1 100 Continue\r\n\r\n".length());
            assertEquals("HTTP/1.1 100 Continue\r\n\r\n", new String(interim, StandardCharsets.US_ASCII));
            final byte[] block = pattern();
            for (int sent = 0; sent < size; sent += BLOCK)
            {
                out.write(block);
            }
            assertEquals("got " + size + " intact", read(s).text());
        }
        assertFalse(backend.heads.get(0).toLowerCase(Locale.ROOT).contains("expect"), "Expect is not forwarded");
    }

    @Test
    void aClientThatVanishesMidUploadLeavesNoConnectionNorChunk() throws Exception
    {
        final UploadBackend slow = later(new UploadBackend(UploadBackend.Mode.SLOW));
        start(group(slow.port()), b -> b);
        for (int i = 0; i < 3; i++)
        {
            try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
            {
                final OutputStream out = s.getOutputStream();
                out.write(("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + (20 << 20) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
                final byte[] block = pattern();
                for (int sent = 0; sent < 2 << 20; sent += BLOCK)
                {
                    out.write(block);
                }
                for (int k = 0; k < 500 && slow.bytes.get() == 0; k++)
                {
                    Thread.sleep(10);
                }
                assertTrue(slow.bytes.get() > 0, "the upload reached the upstream");
                s.setSoLinger(true, 0); // a reset, mid-upload
            }
        }
        for (int i = 0; i < 1000 && (server.outboundStats().open() > 0 || StreamedBodyTest.chunksInUse(server) > 0); i++)
        {
            Thread.sleep(10);
        }
        assertEquals(0, server.outboundStats().open(), "the abandoned upstream connections were closed");
        assertEquals(0, StreamedBodyTest.chunksInUse(server), "no chunk is held for the vanished uploads");
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("PUT /small HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
            assertTrue(c.read().text().startsWith("got 5 "), "the proxy serves on");
        }
    }

    @Test
    void anUpstreamFailingMidUploadGives502AndNoRetry() throws Exception
    {
        final UploadBackend a = later(new UploadBackend(UploadBackend.Mode.BREAK));
        final UploadBackend b = later(new UploadBackend(UploadBackend.Mode.BREAK));
        start(group(a.port(), b.port()), s -> s.tries(3).retryNonIdempotent(true)); // retries allowed, but not possible
        final int size = 16 << 20;
        try (Socket s = new Socket("127.0.0.1", server.address().getPort()))
        {
            s.setSoTimeout(20_000);
            final Thread writer = new Thread(() ->
            {
                try
                {
                    final OutputStream out = s.getOutputStream();
                    out.write(("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    final byte[] block = pattern();
                    for (int sent = 0; sent < size; sent += BLOCK)
                    {
                        out.write(block);
                    }
                }
                catch (final IOException closedByTheProxy)
                {
                    // expected: the proxy answers 502 and closes without reading the rest
                }
            });
            writer.start();
            final RawHttpClient.Response r = read(s);
            assertEquals(502, r.status());
            assertEquals("close", r.header("Connection"), "the rest of the body cannot be read past: the connection closes");
            assertEquals(-1, readToEnd(s.getInputStream()), "and it did close");
            writer.join(20_000);
        }
        assertEquals(1, a.requests.get() + b.requests.get(), "a streamed upload is not retried once its bytes went out");
        assertEquals(0, proxy.retries());
    }

    @Test
    void aStreamedUploadStillGoesElsewhereWhenTheConnectFails() throws Exception
    {
        final int dead = closedPort();
        final UploadBackend live = later(new UploadBackend(UploadBackend.Mode.FAST));
        start(group(dead, live.port()), b -> b.tries(2).requestBuffering(0));
        for (int i = 0; i < 4; i++)
        {
            try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
            {
                final byte[] body = new byte[200_000];
                c.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n");
                c.socket.getOutputStream().write(body);
                final RawHttpClient.Response r = c.read();
                assertEquals(200, r.status(), "request " + i + ": no body byte had gone out, so it went to the live upstream");
            }
        }
    }

    @Test
    void aSmallBodyIsKeptAndRetriedOnTheNextUpstream() throws Exception
    {
        final ProxyTestBackend silent = later(new ProxyTestBackend((head, body, out) -> false)); // reads, closes, no answer
        final UploadBackend live = later(new UploadBackend(UploadBackend.Mode.FAST));
        start(group(silent.port(), live.port()), b -> b.tries(2));
        for (int i = 0; i < 6; i++)
        {
            try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
            {
                c.send("PUT /small HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" + "p".repeat(1024));
                final RawHttpClient.Response r = c.read();
                assertEquals(200, r.status(), "request " + i + " was retried with its kept body");
                assertEquals("got 1024", r.text().substring(0, 8));
            }
        }
        assertTrue(silent.requests.get() > 0 && proxy.retries() == silent.requests.get(), "each silent answer was retried");
    }

    // ------------------------------------------------------------------ helpers

    private Thread sampler(final AtomicLong maxChunks)
    {
        final Thread t = new Thread(() ->
        {
            while (!Thread.currentThread().isInterrupted())
            {
                maxChunks.accumulateAndGet(StreamedBodyTest.chunksInUse(server), Math::max);
                try
                {
                    Thread.sleep(2);
                }
                catch (final InterruptedException e)
                {
                    return;
                }
            }
        }, "chunk-sampler");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** A block whose bytes depend on their offset modulo 251, so the upstream can check every byte arrived in order. */
    private static byte[] pattern()
    {
        final byte[] b = new byte[BLOCK];
        for (int i = 0; i < b.length; i++)
        {
            b[i] = (byte)(i % 251);
        }
        return b;
    }

    private static RawHttpClient.Response read(final Socket s) throws IOException
    {
        final InputStream in = s.getInputStream();
        final String head = readHead(in);
        assertTrue(head != null, "a response came");
        final String[] lines = head.split("\r\n");
        final java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();
        int length = 0;
        for (int i = 1; i < lines.length; i++)
        {
            final int colon = lines[i].indexOf(':');
            final String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
            headers.put(name, lines[i].substring(colon + 1).trim());
            if (name.equals("content-length"))
            {
                length = Integer.parseInt(headers.get(name));
            }
        }
        return new RawHttpClient.Response(Integer.parseInt(lines[0].substring(9, 12)), headers, in.readNBytes(length));
    }

    private static int readToEnd(final InputStream in)
    {
        try
        {
            while (in.read() != -1)
            {
                // drain
            }
            return -1;
        }
        catch (final IOException reset)
        {
            return -1; // a reset ends it as well
        }
    }

    static String readHead(final InputStream in) throws IOException
    {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        int state = 0;
        while ((c = in.read()) != -1)
        {
            b.write(c);
            state = c == '\r' && (state == 0 || state == 2) ? state + 1 : c == '\n' && (state == 1 || state == 3) ? state + 1 : 0;
            if (state == 4)
            {
                return b.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    private static int closedPort() throws IOException
    {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            return s.getLocalPort();
        }
    }

    /**
     * A blocking keep-alive upstream that reads request bodies (Content-Length or chunked) in blocks,
     * checks each byte against {@link #pattern()}'s sequence, and answers {@code got N intact}.
     * {@code SLOW} sleeps between blocks at first, so the proxy must stop taking the client's body;
     * {@code BREAK} closes after 1 MiB of a body without answering.
     */
    static final class UploadBackend implements AutoCloseable
    {
        enum Mode { FAST, SLOW, BREAK }

        final List<String> heads = new CopyOnWriteArrayList<>();
        final AtomicInteger requests = new AtomicInteger();
        final AtomicInteger bytes = new AtomicInteger();
        private final ServerSocket listener;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private final Mode mode;

        UploadBackend(final Mode mode) throws IOException
        {
            this.mode = mode;
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            final Thread acceptor = new Thread(() ->
            {
                while (!listener.isClosed())
                {
                    try
                    {
                        final Socket s = listener.accept();
                        sockets.add(s);
                        final Thread t = new Thread(() -> serve(s), "upload-backend-conn");
                        t.setDaemon(true);
                        t.start();
                    }
                    catch (final IOException closed)
                    {
                        return;
                    }
                }
            }, "upload-backend-accept");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port()
        {
            return listener.getLocalPort();
        }

        private void serve(final Socket s)
        {
            try (s)
            {
                s.setReceiveBufferSize(64 * 1024);
                final InputStream in = s.getInputStream();
                final OutputStream out = s.getOutputStream();
                while (true)
                {
                    final String head = readHead(in);
                    if (head == null)
                    {
                        return;
                    }
                    heads.add(head);
                    requests.incrementAndGet();
                    long length = 0;
                    boolean chunked = false;
                    for (final String line : head.split("\r\n"))
                    {
                        final String lower = line.toLowerCase(Locale.ROOT);
                        if (lower.startsWith("content-length:"))
                        {
                            length = Long.parseLong(line.substring(15).trim());
                        }
                        else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked"))
                        {
                            chunked = true;
                        }
                    }
                    final Body body = new Body();
                    if (chunked)
                    {
                        long size;
                        while ((size = Long.parseLong(line(in).trim(), 16)) > 0)
                        {
                            if (!body.read(in, size))
                            {
                                return;
                            }
                            line(in);
                        }
                        line(in);
                    }
                    else if (!body.read(in, length))
                    {
                        return;
                    }
                    final String text = "got " + body.total + (body.intact ? " intact" : " corrupt");
                    out.write(ProxyTestBackend.ok(text));
                    out.flush();
                }
            }
            catch (final IOException gone)
            {
                // the proxy closed or reset: the test looks at what was recorded
            }
        }

        /** One body's reading state: its byte count and whether every byte matched the pattern. */
        private final class Body
        {
            long total;
            boolean intact = true;
            private final byte[] buf = new byte[BLOCK];

            /** @return false if the upstream breaks off here ({@code BREAK}) */
            boolean read(final InputStream in, final long n) throws IOException
            {
                long left = n;
                while (left > 0)
                {
                    final int r = in.read(buf, 0, (int)Math.min(buf.length, left));
                    if (r < 0)
                    {
                        throw new IOException("end of stream mid-body");
                    }
                    for (int i = 0; i < r; i++)
                    {
                        intact &= buf[i] == (byte)((total + i) % BLOCK % 251);
                    }
                    total += r;
                    left -= r;
                    bytes.addAndGet(r);
                    if (mode == Mode.BREAK && total >= 1 << 20)
                    {
                        return false;
                    }
                    if (mode == Mode.SLOW && total < 8 << 20)
                    {
                        pause();
                    }
                }
                return true;
            }
        }

        private static void pause()
        {
            try
            {
                Thread.sleep(1);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }

        private static String line(final InputStream in) throws IOException
        {
            final StringBuilder b = new StringBuilder();
            int c;
            while ((c = in.read()) != -1 && c != '\n')
            {
                if (c != '\r')
                {
                    b.append((char)c);
                }
            }
            return b.toString();
        }

        @Override
        public void close() throws IOException
        {
            listener.close();
            for (final Socket s : sockets)
            {
                s.close();
            }
        }
    }
}
