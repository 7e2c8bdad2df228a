package io.millrace.http;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static io.millrace.http.HttpRequestParser.COMPLETE;
import static io.millrace.http.HttpRequestParser.NEED_MORE;
import static io.millrace.http.ParserHarness.ascii;
import static io.millrace.http.ParserHarness.body;
import static io.millrace.http.ParserHarness.feedByteAtATime;
import static io.millrace.http.ParserHarness.feedSplit;
import static io.millrace.http.ParserHarness.feedWhole;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpRequestParserTest
{
    private static final String GET = "GET /files/a%20b.txt?x=1&y=2 HTTP/1.1\r\n" +
        "Host: example.com:8080\r\n" +
        "User-Agent: test\r\n" +
        "X-Spaces: \t padded value \t\r\n" +
        "X-Dup: first\r\n" +
        "x-dup: second\r\n" +
        "\r\n";

    private static final String PUT = "PUT /kv/key HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world";

    private static final String CHUNKED = "POST /upload HTTP/1.1\r\n" +
        "Host: h\r\n" +
        "Transfer-Encoding: Chunked\r\n" +
        "\r\n" +
        "5;name=value;other\r\n" +
        "hello\r\n" +
        "1 ; spaced=\"quoted ext\"\r\n" +
        " \r\n" +
        "00000000000A\r\n" +
        "0123456789\r\n" +
        "0\r\n" +
        "Checksum: abc\r\n" +
        "X-Trailer: t\r\n" +
        "\r\n";

    private final HttpRequestParser parser = new HttpRequestParser();

    @Test
    void parsesGetWithQueryAndHeaders()
    {
        final ByteBuffer src = ascii(GET);
        assertEquals(COMPLETE, ParserHarness.feed(parser, src));
        assertEquals(0, src.remaining());
        assertGet(parser);
    }

    private static void assertGet(final HttpRequestParser p)
    {
        assertSame("GET", p.method(), "common methods are shared constants");
        assertEquals("/files/a%20b.txt?x=1&y=2", p.target());
        assertEquals("/files/a%20b.txt", p.path());
        assertEquals("x=1&y=2", p.query());
        assertEquals(1, p.versionMinor());
        assertEquals("example.com:8080", p.header("host"));
        assertEquals("example.com:8080", p.header("HOST"));
        assertEquals("padded value", p.header("X-Spaces"));
        assertEquals("first", p.header("x-dup"), "first value wins");
        assertNull(p.header("Content-Length"));
        assertEquals(5, p.headerCount());
        assertEquals("x-dup", p.headerName(4));
        assertEquals("second", p.headerValue(4));
        assertTrue(p.keepAlive());
        assertFalse(p.chunked());
        assertEquals(0, p.bodyReceived());
    }

    @Test
    void parsesPutWithContentLength()
    {
        assertEquals(COMPLETE, feedWhole(parser, PUT));
        assertEquals("PUT", parser.method());
        assertEquals("/kv/key", parser.path());
        assertNull(parser.query());
        assertEquals("hello world", body(parser));
        assertFalse(parser.chunked());
    }

    @Test
    void decodesChunkedBodyIgnoringExtensionsAndSkippingTrailers()
    {
        assertEquals(COMPLETE, feedWhole(parser, CHUNKED));
        assertTrue(parser.chunked());
        assertEquals("hello 0123456789", body(parser));
        assertNull(parser.header("Checksum"), "trailer fields are not headers");
    }

    @Test
    void everyRequestParsesTheSameFedOneByteAtATime()
    {
        for (final String request : new String[] {GET, PUT, CHUNKED})
        {
            parser.reset();
            final int[] verdict = feedByteAtATime(parser, request);
            assertEquals(COMPLETE, verdict[0], request);
            assertEquals(request.length(), verdict[1], "completes exactly at the last byte");
        }
        assertEquals("hello 0123456789", body(parser));
        parser.reset();
        feedByteAtATime(parser, GET);
        assertGet(parser);
    }

    @Test
    void everyRequestParsesTheSameSplitAtAnyPosition()
    {
        for (final String request : new String[] {GET, PUT, CHUNKED})
        {
            final String expectedBody = request == PUT ? "hello world" : request == CHUNKED ? "hello 0123456789" : "";
            for (int at = 0; at <= request.length(); at++)
            {
                parser.reset();
                assertEquals(COMPLETE, feedSplit(parser, request, at), "split at " + at);
                assertEquals(expectedBody, body(parser), "split at " + at);
            }
        }
    }

    @Test
    void leavesPipelinedBytesForTheNextRequest()
    {
        final StringBuilder all = new StringBuilder();
        for (int i = 0; i < 16; i++)
        {
            all.append(i % 2 == 0
                ? "GET /r/" + i + " HTTP/1.1\r\nHost: h\r\n\r\n"
                : "POST /r/" + i + " HTTP/1.1\r\nHost: h\r\nContent-Length: " + String.valueOf(i).length() + "\r\n\r\n" + i);
        }
        final ByteBuffer src = ascii(all.toString());
        for (int i = 0; i < 16; i++)
        {
            parser.reset();
            assertEquals(COMPLETE, ParserHarness.feed(parser, src), "request " + i);
            assertEquals("/r/" + i, parser.path());
            assertEquals(i % 2 == 0 ? "" : String.valueOf(i), body(parser));
            assertEquals(COMPLETE, ParserHarness.feed(parser, src), "stays complete until reset, consuming nothing");
        }
        assertEquals(0, src.remaining());
        parser.reset();
        assertEquals(NEED_MORE, ParserHarness.feed(parser, src));
    }

    @Test
    void skipsEmptyLinesBeforeTheRequestLine()
    {
        // A client may send a stray CRLF after a POST body (RFC 9112 section 2.2).
        assertEquals(COMPLETE, feedWhole(parser, "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals("/", parser.path());
    }

    @Test
    void keepAliveFollowsVersionAndConnectionOptions()
    {
        assertKeepAlive(true, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        assertKeepAlive(false, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        assertKeepAlive(false, "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n");
        assertKeepAlive(true, "GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n");
        assertKeepAlive(false, "GET / HTTP/1.0\r\n\r\n");
        assertKeepAlive(true, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        assertKeepAlive(false, "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n");
        assertEquals(0, parser.versionMinor());
    }

    private void assertKeepAlive(final boolean expected, final String request)
    {
        parser.reset();
        assertEquals(COMPLETE, feedWhole(parser, request), request);
        assertEquals(expected, parser.keepAlive(), request);
    }

    @Test
    void http10NeedsNoHost()
    {
        assertEquals(COMPLETE, feedWhole(parser, "HEAD /x HTTP/1.0\r\n\r\n"));
        assertEquals("HEAD", parser.method());
        assertEquals(0, parser.versionMinor());
    }

    @Test
    void takesAbsoluteAsteriskAndAuthorityForms()
    {
        assertEquals(COMPLETE, feedWhole(parser, "GET http://example.com:80/a/b?q HTTP/1.1\r\nHost: example.com\r\n\r\n"));
        assertEquals("/a/b", parser.path());
        assertEquals("q", parser.query());
        parser.reset();
        assertEquals(COMPLETE, feedWhole(parser, "GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"));
        assertEquals("/", parser.path());
        parser.reset();
        assertEquals(COMPLETE, feedWhole(parser, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals("*", parser.path());
        parser.reset();
        assertEquals(COMPLETE, feedWhole(parser, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"));
        assertEquals("example.com:443", parser.target());
    }

    @Test
    void keepsObsTextValuesAndSharesMethodConstants()
    {
        assertEquals(COMPLETE, feedWhole(parser, "OPTIONS / HTTP/1.1\r\nHost: h\r\nX-Latin: caf\u00e9\r\n\r\n"));
        assertSame("OPTIONS", parser.method());
        assertEquals("caf\u00e9", parser.header("x-latin"));
    }

    @Test
    void acceptsEmptyValuesAndZeroLength()
    {
        assertEquals(COMPLETE, feedWhole(parser, "POST / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n"));
        assertEquals("", parser.header("x-empty"));
        assertEquals(0, parser.bodyReceived());
    }

    @Test
    void acceptsAHeadExactlyAtTheLimitAndABodyExactlyAtItsLimit()
    {
        final String start = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nX-Pad: ";
        final int pad = 128 - start.length() - 4;
        final String request = start + "p".repeat(pad) + "\r\n\r\nbody";
        final HttpRequestParser small = new HttpRequestParser(128, 4);
        assertEquals(COMPLETE, feedWhole(small, request));
        assertEquals("body", body(small));
    }

    @Test
    void handsOutLargeChunkedBodiesInPartsAndStartsAfreshAfterReset()
    {
        final StringBuilder chunked = new StringBuilder("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
        final byte[] expected = new byte[100_000];
        for (int i = 0; i < expected.length; i += 1000)
        {
            chunked.append("3e8\r\n");
            for (int j = 0; j < 1000; j++)
            {
                expected[i + j] = (byte)('a' + (i / 1000 + j) % 26);
                chunked.append((char)expected[i + j]);
            }
            chunked.append("\r\n");
        }
        chunked.append("0\r\n\r\n");
        assertEquals(COMPLETE, feedWhole(parser, chunked.toString()));
        assertEquals(expected.length, parser.bodyReceived());
        assertArrayEquals(expected, ParserHarness.body(parser).getBytes(StandardCharsets.ISO_8859_1));
        parser.reset();
        assertEquals(COMPLETE, feedWhole(parser, PUT));
        assertEquals("hello world", ParserHarness.body(parser));
    }

    @Test
    void refusesSillyLimits()
    {
        assertThrows(IllegalArgumentException.class, () -> new HttpRequestParser(10, 100));
        assertThrows(IllegalArgumentException.class, () -> new HttpRequestParser(8192, -1));
    }
}
