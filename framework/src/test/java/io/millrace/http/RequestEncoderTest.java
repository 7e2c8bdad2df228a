package io.millrace.http;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static io.millrace.http.HttpRequestParser.BODY_PART;
import static io.millrace.http.HttpRequestParser.COMPLETE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The request encoder and the chunked encoder, checked by parsing what they write with the server's
 * own {@link HttpRequestParser}; and a request relayed as a proxy would: parsed, filtered, encoded
 * again with its body re-framed, parsed again.
 */
class RequestEncoderTest
{
    private static final HeaderBlock ACCEPT = HeaderBlock.of("Accept", "*/*", "User-Agent", "millrace-test");

    private final ByteBuffer dst = ByteBuffer.allocate(8192);

    private String written()
    {
        return new String(dst.array(), 0, dst.position(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void writesRequestLineHostFieldsFramingAndTheEmptyLine()
    {
        final int n = RequestEncoder.head(dst, "GET", "/a%20b?x=1", "upstream:9001", ACCEPT, RequestEncoder.NO_BODY, false, null);
        assertEquals("GET /a%20b?x=1 HTTP/1.1\r\nHost: upstream:9001\r\nAccept: */*\r\nUser-Agent: millrace-test\r\n\r\n", written());
        assertEquals(n, dst.position());
        dst.clear();
        final ByteBuffer extra = ByteBuffer.wrap("X-A: 1\r\n".getBytes(StandardCharsets.US_ASCII));
        RequestEncoder.head(dst, "PUT", "/kv/k", "h", HeaderBlock.EMPTY, 0, true, extra);
        assertEquals("PUT /kv/k HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\nX-A: 1\r\n\r\n", written());
        assertEquals(0, extra.position(), "extra is read, not consumed");
        dst.clear();
        RequestEncoder.head(dst, "POST", "/up", "", HeaderBlock.EMPTY, RequestEncoder.CHUNKED, false, null);
        assertEquals("POST /up HTTP/1.1\r\nHost: \r\nTransfer-Encoding: chunked\r\n\r\n", written());
    }

    @Test
    void whatItWritesTheServerParses()
    {
        final byte[] body = "hello, upstream".getBytes(StandardCharsets.US_ASCII);
        RequestEncoder.head(dst, "POST", "/orders?id=7", "shop.example:8080", ACCEPT, body.length, false, null);
        dst.put(body);
        dst.flip();
        final HttpRequestParser p = new HttpRequestParser();
        assertEquals(COMPLETE, ParserHarness.feed(p, dst));
        assertEquals("POST", p.method());
        assertEquals("/orders", p.path());
        assertEquals("id=7", p.query());
        assertEquals("shop.example:8080", p.header("Host"));
        assertEquals("millrace-test", p.header("user-agent"));
        assertEquals(body.length, p.contentLength());
        assertEquals("hello, upstream", ParserHarness.body(p));
        assertTrue(p.keepAlive());

        dst.clear();
        RequestEncoder.head(dst, "DELETE", "/x", "h", HeaderBlock.EMPTY, RequestEncoder.NO_BODY, true, null);
        dst.flip();
        final HttpRequestParser q = new HttpRequestParser();
        assertEquals(COMPLETE, ParserHarness.feed(q, dst));
        assertFalse(q.keepAlive(), "Connection: close");
        assertFalse(q.hasBody());
    }

    @Test
    void aChunkedBodyRoundTrips()
    {
        final SplittableRandom random = new SplittableRandom(12);
        for (int round = 0; round < 50; round++)
        {
            dst.clear();
            RequestEncoder.head(dst, "POST", "/stream", "h", HeaderBlock.EMPTY, RequestEncoder.CHUNKED, false, null);
            final StringBuilder sent = new StringBuilder();
            final int parts = random.nextInt(6);
            for (int i = 0; i < parts; i++)
            {
                final String part = "x".repeat(1 + random.nextInt(300)) + i;
                ChunkedEncoder.chunkHeader(dst, part.length());
                dst.put(part.getBytes(StandardCharsets.US_ASCII));
                ChunkedEncoder.chunkEnd(dst);
                sent.append(part);
            }
            ChunkedEncoder.lastChunk(dst);
            dst.flip();
            final HttpRequestParser p = new HttpRequestParser();
            assertEquals(COMPLETE, ParserHarness.feed(p, dst));
            assertTrue(p.chunked());
            assertEquals(sent.toString(), ParserHarness.body(p));
            assertFalse(dst.hasRemaining());
        }
    }

    @Test
    void chunkSizesAreLowerCaseHexWithoutLeadingZeros()
    {
        final long[] sizes = {1, 9, 10, 15, 16, 255, 256, 4096, 0xABCDEFL, Long.MAX_VALUE};
        final String[] hex = {"1", "9", "a", "f", "10", "ff", "100", "1000", "abcdef", "7fffffffffffffff"};
        for (int i = 0; i < sizes.length; i++)
        {
            dst.clear();
            assertEquals(hex[i].length() + 2, ChunkedEncoder.chunkHeader(dst, sizes[i]));
            assertEquals(hex[i] + "\r\n", written());
        }
        assertThrows(IllegalArgumentException.class, () -> ChunkedEncoder.chunkHeader(dst, 0));
        final ByteBuffer tiny = ByteBuffer.allocate(4);
        assertThrows(IllegalArgumentException.class, () -> ChunkedEncoder.lastChunk(tiny));
        assertThrows(IllegalArgumentException.class, () -> ChunkedEncoder.chunkHeader(tiny, 0x100));
        assertEquals(0, tiny.position(), "nothing written");
    }

    @Test
    void badArgumentsAreRefusedAndNothingIsWritten()
    {
        dst.position(7);
        final String[] methods = {"", "G T", "GET\r\n", "G\u00c9T", "GET:"};
        for (final String m : methods)
        {
            assertThrows(IllegalArgumentException.class, () -> RequestEncoder.head(dst, m, "/", "h", HeaderBlock.EMPTY, -1, false, null), m);
        }
        assertThrows(IllegalArgumentException.class, () -> RequestEncoder.head(dst, null, "/", "h", HeaderBlock.EMPTY, -1, false, null));
        final String[] targets = {"", "/a b", "/a\r\nX: y", "/a#frag", "/\u00e9", "/\u007f"};
        for (final String t : targets)
        {
            assertThrows(IllegalArgumentException.class, () -> RequestEncoder.head(dst, "GET", t, "h", HeaderBlock.EMPTY, -1, false, null), t);
        }
        final String[] hosts = {"a b", "h\r\nX: y", "a/b", "u@h", "a,b", "h\u00e9"};
        for (final String h : hosts)
        {
            assertThrows(IllegalArgumentException.class, () -> RequestEncoder.head(dst, "GET", "/", h, HeaderBlock.EMPTY, -1, false, null), h);
        }
        assertThrows(IllegalArgumentException.class, () -> RequestEncoder.head(dst, "GET", "/", null, HeaderBlock.EMPTY, -1, false, null));
        final IllegalArgumentException host = assertThrows(IllegalArgumentException.class,
            () -> RequestEncoder.head(dst, "GET", "/", "h", HeaderBlock.of("X-A", "1", "host", "other"), -1, false, null));
        assertTrue(host.getMessage().contains("host argument"), host.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RequestEncoder.head(dst, "GET", "/", "h", HeaderBlock.EMPTY, -3, false, null));
        final ByteBuffer small = ByteBuffer.allocate(30);
        final IllegalArgumentException fit = assertThrows(IllegalArgumentException.class,
            () -> RequestEncoder.head(small, "GET", "/a/long/enough/path", "h", HeaderBlock.EMPTY, -1, false, null));
        assertTrue(fit.getMessage().contains("does not fit"), fit.getMessage());
        assertEquals(0, small.position());
        assertEquals(7, dst.position());
        assertFalse(HeaderBlock.of("X-Host", "h", "Hostname", "h").hasHost(), "only a field named Host");
        assertTrue(HeaderBlock.of("X-A", "1").and(HeaderBlock.of("HOST", "h")).hasHost());
    }

    /**
     * What the reverse proxy does with a request: the server parses it, the proxy copies its
     * forwardable fields, encodes a new head for the upstream and relays the body part by part,
     * re-framed as chunks; the upstream (another server parser) sees the request without any
     * hop-by-hop field, with the forwarding fields and the same body.
     */
    @Test
    void aRequestRelayedAsAProxyDoesIt()
    {
        final String client = "POST /upload HTTP/1.1\r\nHost: front.example\r\nConnection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\n" +
            "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-T: t\r\n\r\n";
        final HttpRequestParser received = new HttpRequestParser();
        final ByteBuffer in = ByteBuffer.wrap(client.getBytes(StandardCharsets.US_ASCII));
        final ByteBuffer extra = ByteBuffer.allocate(2 * HttpRequestParser.DEFAULT_MAX_HEADER_BYTES + 1024);
        final ProxyHeaders proxy = new ProxyHeaders("millrace");
        int r;
        while ((r = received.feed(in)) == BODY_PART || r == HttpRequestParser.NEED_MORE && in.hasRemaining())
        {
            if (r == BODY_PART)
            {
                if (dst.position() == 0)
                {
                    proxy.copyRequestFields(received, "192.0.2.7", false, extra);
                    extra.flip();
                    RequestEncoder.head(dst, received.method(), received.target(), "backend:9001", HeaderBlock.EMPTY,
                        RequestEncoder.CHUNKED, false, extra);
                }
                ChunkedEncoder.chunkHeader(dst, received.partLength());
                dst.put(in.array(), in.position() - received.partLength(), received.partLength());
                ChunkedEncoder.chunkEnd(dst);
            }
        }
        assertEquals(COMPLETE, r);
        ChunkedEncoder.lastChunk(dst);
        dst.flip();
        final HttpRequestParser upstream = new HttpRequestParser();
        assertEquals(COMPLETE, ParserHarness.feed(upstream, dst));
        assertEquals("abcdefg", ParserHarness.body(upstream));
        assertEquals("backend:9001", upstream.header("Host"));
        assertEquals("text/plain", upstream.header("Content-Type"));
        assertNull(upstream.header("X-Hop"));
        assertNull(upstream.header("Keep-Alive"));
        assertNull(upstream.header("Connection"));
        assertEquals("chunked", upstream.header("Transfer-Encoding"), "the proxy's own framing, not the client's");
        assertEquals("192.0.2.7", upstream.header("X-Forwarded-For"));
        assertEquals("for=192.0.2.7;proto=http;host=front.example", upstream.header("Forwarded"));
        assertEquals("1.1 millrace", upstream.header("Via"));
    }

    /** The client side's hot path: head, chunk framing, field copy and response parsing allocate nothing. */
    @Test
    void theHotPathAllocatesNothing()
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
            "this JVM does not count allocated bytes per thread");
        final HttpRequestParser received = new HttpRequestParser();
        ParserHarness.feedWhole(received, "GET /p?q HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nConnection: X-A\r\nX-A: 1\r\nVia: 1.0 a\r\n\r\n");
        final ProxyHeaders proxy = new ProxyHeaders("millrace");
        final HttpResponseParser parser = new HttpResponseParser();
        final byte[] response = ("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" +
            "Transfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: t\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        final ByteBuffer extra = ByteBuffer.allocate(4096);
        final ByteBuffer src = ByteBuffer.wrap(response);
        final AsciiView view = new AsciiView();
        final int rounds = 20_000;
        long checksum = 0;
        long before = 0;
        for (int i = 0; i < 2 * rounds; i++)
        {
            if (i == rounds)
            {
                before = threads.getCurrentThreadAllocatedBytes();
            }
            extra.clear();
            proxy.copyRequestFields(received, "192.0.2.7", true, extra);
            extra.flip();
            dst.clear();
            RequestEncoder.head(dst, "GET", view.set(received.pathArray(), received.pathStart(), received.pathEnd() - received.pathStart()),
                "backend:9001", HeaderBlock.EMPTY, RequestEncoder.NO_BODY, false, extra);
            ChunkedEncoder.chunkHeader(dst, 5);
            parser.reset("GET");
            src.clear();
            int r;
            while ((r = parser.feed(src)) != HttpResponseParser.COMPLETE)
            {
                checksum += r;
            }
            extra.clear();
            checksum += proxy.copyResponseFields(parser, extra) + parser.status();
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        System.out.printf("client codec hot path: %d bytes allocated in %d rounds%n", allocated, rounds);
        assertTrue(checksum > 0);
        assertTrue(allocated < rounds, () -> "allocated " + allocated + " bytes in " + rounds + " rounds");
    }
}
