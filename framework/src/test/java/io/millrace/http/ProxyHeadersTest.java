package io.millrace.http;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hop-by-hop filter and the forwarding fields, both directions. */
class ProxyHeadersTest
{
    private final ProxyHeaders proxy = new ProxyHeaders("millrace");
    private final ByteBuffer dst = ByteBuffer.allocate(4 * HttpRequestParser.DEFAULT_MAX_HEADER_BYTES);

    private static HttpRequestParser request(final String text)
    {
        final HttpRequestParser p = new HttpRequestParser();
        final int r = ParserHarness.feedWhole(p, text);
        assertTrue(p.headComplete(), () -> "not a request head (" + r + ", " + p.errorReason() + "): " + text);
        return p;
    }

    private static HttpResponseParser response(final String method, final String text)
    {
        final HttpResponseParser p = new HttpResponseParser();
        p.reset(method);
        assertEquals(HttpResponseParser.FINAL_HEAD, p.feed(ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1))), text);
        return p;
    }

    private List<String> lines(final int written)
    {
        assertEquals(written, dst.position(), "the count returned is what was written");
        final String text = new String(dst.array(), 0, dst.position(), StandardCharsets.ISO_8859_1);
        assertTrue(text.isEmpty() || text.endsWith("\r\n"), text);
        return text.isEmpty() ? List.of() : List.of(text.split("\r\n"));
    }

    @Test
    void requestsLoseHopByHopFieldsAndGainForwardingOnes()
    {
        final HttpRequestParser p = request("POST /orders?id=7 HTTP/1.1\r\n" +
            "Host: shop.example:8080\r\n" +
            "User-Agent: curl/8\r\n" +
            "Connection: keep-alive, X-Secret, upgrade\r\n" +
            "Keep-Alive: timeout=5\r\n" +
            "TE: trailers\r\n" +
            "Transfer-Encoding: chunked\r\n" +
            "Upgrade: websocket\r\n" +
            "Proxy-Authorization: Basic abc\r\n" +
            "Proxy-Connection: keep-alive\r\n" +
            "Trailer: X-Checksum\r\n" +
            "X-Secret: only for the first hop\r\n" +
            "Expect: 100-continue\r\n" +
            "Accept: */*\r\n" +
            "X-Forwarded-Proto: https\r\n" +
            "Cookie: a=1\r\n" +
            "Cookie: b=2\r\n" +
            "\r\n");
        final int n = proxy.copyRequestFields(p, "192.0.2.7", false, dst);
        assertEquals(List.of(
            "User-Agent: curl/8",
            "Accept: */*",
            "Cookie: a=1",
            "Cookie: b=2",
            "X-Forwarded-For: 192.0.2.7",
            "X-Forwarded-Proto: http",
            "Forwarded: for=192.0.2.7;proto=http;host=\"shop.example:8080\"",
            "Via: 1.1 millrace"), lines(n), "order kept, the client's X-Forwarded-Proto replaced");
    }

    @Test
    void earlierForwardingFieldsAreJoinedOnOneLine()
    {
        final HttpRequestParser p = request("GET / HTTP/1.0\r\n" +
            "X-Forwarded-For: 203.0.113.1, 198.51.100.2\r\n" +
            "Via: 1.1 edge\r\n" +
            "x-forwarded-for: 198.51.100.3\r\n" +
            "X-Forwarded-For:\r\n" +
            "Forwarded: for=203.0.113.1\r\n" +
            "VIA: 1.0 fred\r\n" +
            "\r\n");
        final int n = proxy.copyRequestFields(p, "2001:db8::7", true, dst);
        assertEquals(List.of(
            "X-Forwarded-For: 203.0.113.1, 198.51.100.2, 198.51.100.3, 2001:db8::7",
            "X-Forwarded-Proto: https",
            "Forwarded: for=203.0.113.1, for=\"[2001:db8::7]\";proto=https",
            "Via: 1.1 edge, 1.0 fred, 1.0 millrace"), lines(n), "HTTP/1.0 without Host: no host parameter, and Via says 1.0");
    }

    @Test
    void fieldsAConnectionFieldNamesAreDroppedInAnyCase()
    {
        final HttpRequestParser p = request("GET / HTTP/1.1\r\nHost: h\r\nconnection: X-A , x-b,,\r\nCONNECTION: X-Forwarded-For\r\n" +
            "x-a: 1\r\nX-B: 2\r\nX-C: 3\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n");
        assertEquals(List.of("X-C: 3", "X-Forwarded-For: 192.0.2.7", "X-Forwarded-Proto: http",
            "Forwarded: for=192.0.2.7;proto=http;host=h", "Via: 1.1 millrace"), lines(proxy.copyRequestFields(p, "192.0.2.7", false, dst)));
    }

    @Test
    void aLongConnectionListOverManyFieldsStaysCorrect()
    {
        final StringBuilder r = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\nConnection: ");
        for (int i = 0; i < 400; i++)
        {
            r.append(i == 0 ? "" : ",").append("n").append(i);
        }
        r.append("\r\n");
        for (int i = 0; i < 500; i += 2)
        {
            r.append("N").append(i).append(": v\r\n");
        }
        r.append("\r\n");
        final HttpRequestParser p = new HttpRequestParser(32 * 1024, 0);
        assertEquals(HttpRequestParser.COMPLETE, ParserHarness.feedWhole(p, r.toString()));
        final List<String> lines = lines(proxy.copyRequestFields(p, "192.0.2.7", false, dst));
        assertEquals(50 + 4, lines.size(), "N400..N498 are not named; every named one is dropped");
        assertEquals("N400: v", lines.get(0));
        assertEquals("N498: v", lines.get(49));
    }

    @Test
    void responsesLoseHopByHopAndTheProxysOwnFields()
    {
        final HttpResponseParser p = response("GET", "HTTP/1.1 200 OK\r\n" +
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" +
            "Server: upstream/1.0\r\n" +
            "Content-Type: text/html\r\n" +
            "Transfer-Encoding: chunked\r\n" +
            "Connection: keep-alive, X-Internal\r\n" +
            "Keep-Alive: timeout=5\r\n" +
            "X-Internal: yes\r\n" +
            "Proxy-Authenticate: Basic\r\n" +
            "Trailer: X-Checksum\r\n" +
            "Set-Cookie: a=1\r\n" +
            "Via: 1.1 backend\r\n" +
            "Set-Cookie: b=2\r\n" +
            "Cache-Control: no-store\r\n" +
            "\r\n");
        assertEquals(List.of("Content-Type: text/html", "Set-Cookie: a=1", "Set-Cookie: b=2", "Cache-Control: no-store",
            "Via: 1.1 backend, 1.1 millrace"), lines(proxy.copyResponseFields(p, dst)));
        dst.clear();
        final HttpResponseParser old = response("HEAD", "HTTP/1.0 200 OK\r\nContent-Length: 10\r\nUpgrade: x\r\n\r\n");
        assertEquals(List.of("Via: 1.0 millrace"), lines(proxy.copyResponseFields(old, dst)),
            "Content-Length is the proxy's to write (it has contentLength())");
    }

    @Test
    void anInterimHeadCanBeForwarded()
    {
        final HttpResponseParser p = new HttpResponseParser();
        p.reset("GET");
        assertEquals(HttpResponseParser.INTERIM_HEAD,
            p.feed(ByteBuffer.wrap("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n".getBytes(StandardCharsets.US_ASCII))));
        assertEquals(List.of("Link: </a.css>; rel=preload", "Via: 1.1 millrace"), lines(proxy.copyResponseFields(p, dst)));
    }

    @Test
    void theFixedListIsAvailableByName()
    {
        for (final String name : new String[] {"Connection", "keep-alive", "TE", "Transfer-Encoding", "UPGRADE", "Trailer",
            "Proxy-Authorization", "proxy-connection", "Proxy-X"})
        {
            assertTrue(ProxyHeaders.isHopByHop(name), name);
        }
        for (final String name : new String[] {"Trailers", "Proxy-", "Proxy", "Content-Type", "T", "Host", "Upgrade-Insecure-Requests"})
        {
            assertFalse(ProxyHeaders.isHopByHop(name), name);
        }
    }

    @Test
    void aBufferTooSmallGetsNothingAndAnErrorSayingWhatToDo()
    {
        final HttpRequestParser p = request("GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n");
        final ByteBuffer small = ByteBuffer.allocate(40);
        small.position(3);
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> proxy.copyRequestFields(p, "192.0.2.7", false, small));
        assertTrue(e.getMessage().contains("maxHeaderBytes"), e.getMessage());
        assertEquals(3, small.position());
        final HttpResponseParser r = response("GET", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n");
        assertThrows(IllegalArgumentException.class, () -> proxy.copyResponseFields(r, small.limit(20)));
        assertEquals(3, small.position());
    }

    @Test
    void misuseFailsFast()
    {
        assertThrows(IllegalArgumentException.class, () -> new ProxyHeaders("mill race"));
        assertThrows(IllegalArgumentException.class, () -> new ProxyHeaders(""));
        final HttpRequestParser p = request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        for (final String bad : new String[] {"", "1.2.3.4, 5.6.7.8", "1.2.3.4\r\nX: y", "a b"})
        {
            assertThrows(IllegalArgumentException.class, () -> proxy.copyRequestFields(p, bad, false, dst), bad);
        }
        assertEquals(0, dst.position());
        assertThrows(IllegalStateException.class, () -> proxy.copyRequestFields(new HttpRequestParser(), "1.2.3.4", false, dst));
        final HttpResponseParser none = new HttpResponseParser();
        none.reset("GET");
        assertThrows(IllegalStateException.class, () -> proxy.copyResponseFields(none, dst));
    }
}
