package io.millrace.http;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

import static io.millrace.http.HttpResponseParser.BODY_PART;
import static io.millrace.http.HttpResponseParser.COMPLETE;
import static io.millrace.http.HttpResponseParser.ERROR;
import static io.millrace.http.HttpResponseParser.FINAL_HEAD;
import static io.millrace.http.HttpResponseParser.INTERIM_HEAD;
import static io.millrace.http.HttpResponseParser.NEED_MORE;
import static io.millrace.http.ResponseHarness.splitInvariant;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Framing by status, method and fields; interim responses; the end of input; keep-alive; every
 * case also fed one byte at a time, split at every position and in seeded random pieces
 * ({@link ResponseHarness#splitInvariant}).
 */
class HttpResponseParserTest
{
    private static final String OK_HELLO = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";

    /** Where OK_HELLO's head ends. */
    private static final int OK_HEAD = OK_HELLO.length() - 5;

    private final HttpResponseParser parser = new HttpResponseParser();

    /** @return where the first head in {@code text} ends: after its CRLF CRLF */
    private static int headEnd(final String text)
    {
        return text.indexOf("\r\n\r\n") + 4;
    }

    private static ByteBuffer ascii(final String text)
    {
        return ByteBuffer.wrap(ResponseHarness.bytes(text));
    }

    @Test
    void contentLengthBody()
    {
        parser.reset("GET");
        final ByteBuffer src = ascii(OK_HELLO);
        assertEquals(FINAL_HEAD, parser.feed(src));
        assertTrue(parser.headComplete());
        assertFalse(parser.isComplete());
        assertEquals(200, parser.status());
        assertEquals("OK", parser.reason());
        assertEquals(1, parser.versionMinor());
        assertEquals("text/plain", parser.header("content-type"));
        assertEquals("5", parser.header("Content-Length", new AsciiView()).toString());
        assertNull(parser.header("X-None"));
        assertEquals(2, parser.headerCount());
        assertEquals("Content-Length", parser.headerName(1));
        assertEquals(5, parser.contentLength());
        assertTrue(parser.hasBody());
        assertFalse(parser.chunked());
        assertFalse(parser.closeDelimited());
        assertTrue(parser.keepAlive());
        assertEquals(BODY_PART, parser.feed(src));
        assertEquals(5, parser.partLength());
        assertEquals(src.limit(), src.position());
        assertEquals(COMPLETE, parser.feed(src));
        assertTrue(parser.isComplete());
        assertEquals(5, parser.bodyReceived());

        assertEquals(List.of("FINAL 200 HTTP/1.1 'OK' [Content-Type: text/plain] [Content-Length: 5] length cl=5 keepAlive=true at " +
            OK_HEAD, "COMPLETE at " + OK_HELLO.length() + " body=hello"), splitInvariant("GET", OK_HELLO, false));
    }

    @Test
    void chunkedBodyWithExtensionsAndTrailers()
    {
        final String response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n" +
            "5;name=value;other\r\nhello\r\n1 ; spaced=\"quoted ext\"\r\n \r\n00000000000A\r\n0123456789\r\n" +
            "0\r\nChecksum: abc\r\nX-Trailer: t\r\n\r\n";
        final List<String> events = splitInvariant("GET", response + OK_HELLO, false);
        assertEquals(List.of(
            "FINAL 200 HTTP/1.1 'OK' [Transfer-Encoding: Chunked] chunked cl=-1 keepAlive=true at " + headEnd(response),
            "COMPLETE at " + response.length() + " body=hello 0123456789",
            "FINAL 200 HTTP/1.1 'OK' [Content-Type: text/plain] [Content-Length: 5] length cl=5 keepAlive=true at " +
                (response.length() + OK_HEAD),
            "COMPLETE at " + (response.length() + OK_HELLO.length()) + " body=hello"), events, "the trailers are dropped; the next response follows");
        assertEquals(List.of("FINAL 200 HTTP/1.1 '' [Transfer-Encoding: chunked] chunked cl=-1 keepAlive=true at 45",
            "COMPLETE at 50 body="), splitInvariant("GET", "HTTP/1.1 200 \r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false),
            "an empty chunked body");
    }

    @Test
    void closeDelimitedBodyEndsWithTheConnection()
    {
        for (final String version : new String[] {"HTTP/1.1", "HTTP/1.0"})
        {
            final String response = version + " 200 OK\r\nContent-Type: text/plain\r\n\r\nevery byte until the close";
            parser.reset("GET");
            final ByteBuffer src = ascii(response);
            assertEquals(FINAL_HEAD, parser.feed(src));
            assertTrue(parser.closeDelimited());
            assertTrue(parser.hasBody());
            assertFalse(parser.keepAlive(), "a close-delimited body uses up the connection");
            assertEquals(BODY_PART, parser.feed(src));
            assertEquals(NEED_MORE, parser.feed(src));
            assertFalse(parser.isComplete());
            assertEquals(COMPLETE, parser.endOfInput());
            assertTrue(parser.isComplete());
            assertEquals(List.of("FINAL 200 " + version + " 'OK' [Content-Type: text/plain] close cl=-1 keepAlive=false at " +
                headEnd(response),
                "EOF COMPLETE body=every byte until the close"), splitInvariant("GET", response, true));
        }
        assertEquals(List.of("FINAL 200 HTTP/1.1 'OK' close cl=-1 keepAlive=false at 19", "EOF COMPLETE body="),
            splitInvariant("GET", "HTTP/1.1 200 OK\r\n\r\n", true), "an empty close-delimited body");
    }

    @Test
    void interimResponsesComeBeforeTheFinalOne()
    {
        final String response = "HTTP/1.1 100 Continue\r\n\r\n" +
            "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\nLink: </app.js>; rel=preload\r\n\r\n" + OK_HELLO;
        parser.reset("POST");
        final ByteBuffer src = ascii(response);
        assertEquals(INTERIM_HEAD, parser.feed(src));
        assertEquals(100, parser.status());
        assertEquals("Continue", parser.reason());
        assertFalse(parser.headComplete());
        assertEquals(INTERIM_HEAD, parser.feed(src));
        assertEquals(103, parser.status());
        assertEquals("</style.css>; rel=preload; as=style", parser.header("link"));
        assertEquals(2, parser.headerCount());
        assertEquals(FINAL_HEAD, parser.feed(src));
        assertEquals(200, parser.status());
        assertNull(parser.header("Link"), "the interim head is forgotten");
        assertEquals(2, parser.interimResponses());
        assertEquals(List.of(
            "INTERIM 100 HTTP/1.1 'Continue' at 25",
            "INTERIM 103 HTTP/1.1 'Early Hints' [Link: </style.css>; rel=preload; as=style] [Link: </app.js>; rel=preload] at " +
                (response.length() - OK_HELLO.length()),
            "FINAL 200 HTTP/1.1 'OK' [Content-Type: text/plain] [Content-Length: 5] length cl=5 keepAlive=true at " +
                (response.length() - 5),
            "COMPLETE at " + response.length() + " body=hello"), splitInvariant("POST", response, false));
    }

    @Test
    void interimResponsesAreBounded()
    {
        final String hundred = "HTTP/1.1 100 Continue\r\n\r\n";
        final String allowed = hundred.repeat(HttpResponseParser.MAX_INTERIM_RESPONSES);
        final List<String> ok = splitInvariant("GET", allowed + OK_HELLO, false);
        assertEquals(HttpResponseParser.MAX_INTERIM_RESPONSES + 2, ok.size());
        final List<String> tooMany = splitInvariant("GET", allowed + hundred + OK_HELLO, false);
        assertEquals("ERROR at " + (allowed.length() + hundred.length()) + " TOO_MANY_INTERIM_RESPONSES: more than 16 interim responses",
            tooMany.get(tooMany.size() - 1));
    }

    @Test
    void switchingProtocolsEndsTheExchangeAtItsHead()
    {
        final String head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        final String frames = "\u0081\u0005hello";
        parser.reset("GET");
        final ByteBuffer src = ascii(head + frames);
        assertEquals(FINAL_HEAD, parser.feed(src));
        assertTrue(parser.upgraded());
        assertFalse(parser.keepAlive());
        assertFalse(parser.hasBody());
        assertEquals(COMPLETE, parser.feed(src));
        assertEquals(head.length(), src.position(), "the new protocol's bytes stay in the buffer");
        assertEquals(List.of("FINAL 101 HTTP/1.1 'Switching Protocols' [Upgrade: websocket] [Connection: Upgrade] tunnel cl=-1 " +
            "keepAlive=false at " + head.length(), "COMPLETE at " + head.length() + " body=", "LEFT 7"),
            splitInvariant("GET", head + frames, false));
    }

    @Test
    void aSuccessfulConnectOpensATunnelAndAFailedOneHasABody()
    {
        final String established = "HTTP/1.1 200 Connection Established\r\n\r\n";
        assertEquals(List.of("FINAL 200 HTTP/1.1 'Connection Established' tunnel cl=-1 keepAlive=false at 39",
            "COMPLETE at 39 body=", "LEFT 9"), splitInvariant("CONNECT", established + "TLS bytes", false));
        assertEquals(List.of("FINAL 200 HTTP/1.1 'Connection Established' [Content-Length: 3] tunnel cl=3 keepAlive=false at 58",
            "COMPLETE at 58 body=", "LEFT 3"),
            splitInvariant("CONNECT", "HTTP/1.1 200 Connection Established\r\nContent-Length: 3\r\n\r\nabc", false),
            "a client must ignore Content-Length in a 2xx to CONNECT");
        final String refused = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno";
        assertEquals(List.of("FINAL 407 HTTP/1.1 'Proxy Authentication Required' [Content-Length: 2] length cl=2 keepAlive=true at " +
            (refused.length() - 2), "COMPLETE at " + refused.length() + " body=no"), splitInvariant("CONNECT", refused, false));
    }

    @Test
    void responsesToHeadAnd204And304HaveNoBodyWhateverTheirFieldsSay()
    {
        final String next = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
        final String head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        parser.reset("HEAD");
        final ByteBuffer src = ascii(head + next);
        assertEquals(FINAL_HEAD, parser.feed(src));
        assertEquals(1000, parser.contentLength(), "the length of the body a GET would have had");
        assertFalse(parser.hasBody());
        assertTrue(parser.isComplete());
        assertEquals(COMPLETE, parser.feed(src));
        assertEquals(head.length(), src.position(), "no byte of the next response taken as a body");
        final List<String> events = splitInvariant("HEAD", head + next, false);
        assertEquals("COMPLETE at 41 body=", events.get(1));
        assertEquals("COMPLETE at " + (head.length() + next.length() - 2) + " body=", events.get(3),
            "the next response, also to HEAD, has no body either");

        final String chunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        final String nextHead = next.substring(0, next.length() - 2);
        assertEquals(List.of("FINAL 200 HTTP/1.1 'OK' [Transfer-Encoding: chunked] none cl=-1 keepAlive=true at 47",
            "COMPLETE at 47 body=", "FINAL 200 HTTP/1.1 'OK' [Content-Length: 2] none cl=2 keepAlive=true at 85", "COMPLETE at 85 body=",
            "EOF ERROR CLOSED_BEFORE_RESPONSE: connection closed before any byte of a response"),
            splitInvariant("HEAD", chunkedHead + nextHead, true));
        assertEquals("EOF ERROR TRUNCATED_HEAD: connection closed inside a response head",
            splitInvariant("HEAD", chunkedHead + next, true).get(4), "a body after a response to HEAD is read as the next head");
        for (final String status : new String[] {"204 No Content", "304 Not Modified"})
        {
            final String bogus = "HTTP/1.1 " + status + "\r\nContent-Length: 7\r\n\r\n";
            final List<String> e = splitInvariant("GET", bogus + next, false);
            assertEquals("FINAL " + status.substring(0, 3) + " HTTP/1.1 '" + status.substring(4) + "' [Content-Length: 7] none cl=7 " +
                "keepAlive=true at " + bogus.length(), e.get(0));
            assertEquals("COMPLETE at " + bogus.length() + " body=", e.get(1));
            assertEquals("COMPLETE at " + (bogus.length() + next.length()) + " body=hi", e.get(3));
            final String chunked = "HTTP/1.1 " + status + "\r\nTransfer-Encoding: chunked\r\n\r\n";
            assertEquals("COMPLETE at " + chunked.length() + " body=", splitInvariant("GET", chunked + next, false).get(1));
        }
    }

    @Test
    void keepAliveFollowsVersionConnectionAndFraming()
    {
        assertKeepAlive(true, "GET", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertKeepAlive(false, "GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        assertKeepAlive(false, "GET", "HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\nContent-Length: 0\r\n\r\n");
        assertKeepAlive(false, "GET", "HTTP/1.1 200 OK\r\nConnection: x\r\nconnection: close\r\nContent-Length: 0\r\n\r\n");
        assertKeepAlive(false, "GET", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertKeepAlive(true, "GET", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
        assertKeepAlive(false, "GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n");
        assertKeepAlive(false, "GET", "HTTP/1.1 200 OK\r\n\r\n");
        assertKeepAlive(true, "HEAD", "HTTP/1.1 200 OK\r\n\r\n");
        assertKeepAlive(true, "GET", "HTTP/1.1 204 No Content\r\n\r\n");
        assertKeepAlive(true, "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertKeepAlive(false, "GET", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n");
    }

    private void assertKeepAlive(final boolean expected, final String method, final String head)
    {
        parser.reset(method);
        assertEquals(FINAL_HEAD, parser.feed(ascii(head)), head);
        assertEquals(expected, parser.keepAlive(), head);
    }

    @Test
    void theEndOfInputCompletesOrCutsShort()
    {
        assertEquals(List.of("EOF ERROR CLOSED_BEFORE_RESPONSE: connection closed before any byte of a response"),
            splitInvariant("GET", "", true));
        parser.reset("GET");
        assertFalse(parser.started());
        assertEquals(ERROR, parser.endOfInput());
        assertEquals(ResponseError.CLOSED_BEFORE_RESPONSE, parser.error());
        assertEquals(List.of("EOF ERROR TRUNCATED_HEAD: connection closed inside a response head"),
            splitInvariant("GET", "HTTP/1.1 200 O", true));
        assertEquals(List.of("INTERIM 100 HTTP/1.1 'Continue' at 25", "EOF ERROR TRUNCATED_HEAD: connection closed inside a response head"),
            splitInvariant("GET", "HTTP/1.1 100 Continue\r\n\r\n", true), "closed after an interim response");
        assertEquals("EOF ERROR TRUNCATED_BODY: connection closed inside a response body",
            splitInvariant("GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell", true).get(1));
        assertEquals("EOF ERROR TRUNCATED_BODY: connection closed inside a response body",
            splitInvariant("GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", true).get(1));
        assertEquals(List.of("FINAL 200 HTTP/1.1 'OK' [Content-Length: 0] none cl=0 keepAlive=true at 38", "COMPLETE at 38 body=",
            "EOF ERROR CLOSED_BEFORE_RESPONSE: connection closed before any byte of a response"),
            splitInvariant("GET", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true), "a kept connection that closes idle");

        parser.reset("GET");
        final ByteBuffer src = ascii(OK_HELLO);
        while (parser.feed(src) != COMPLETE)
        {
            assertTrue(parser.started());
        }
        assertEquals(COMPLETE, parser.endOfInput(), "the end after a whole response changes nothing");
        assertTrue(parser.keepAlive());
    }

    @Test
    void limitsBoundHeadsTrailersAndBodies()
    {
        final String head = "HTTP/1.1 200 OK\r\nX-Pad: " + "p".repeat(40) + "\r\nContent-Length: 2\r\n\r\n";
        assertEquals(List.of("FINAL 200 HTTP/1.1 'OK' [X-Pad: " + "p".repeat(40) + "] [Content-Length: 2] length cl=2 keepAlive=true at " +
            head.length(), "COMPLETE at " + (head.length() + 2) + " body=ok"),
            splitInvariant("GET", head + "ok", false, head.length(), 100), "a head of exactly maxHeaderBytes");
        assertEquals(List.of("ERROR at " + head.length() + " HEAD_TOO_LARGE: response head larger than " + (head.length() - 1) + " bytes"),
            splitInvariant("GET", head + "ok", false, head.length() - 1, 100));
        assertEquals(List.of("INTERIM 100 HTTP/1.1 'Continue' at 25",
            "ERROR at " + (25 + head.length()) + " HEAD_TOO_LARGE: response head larger than " + (head.length() - 1) + " bytes"),
            splitInvariant("GET", "HTTP/1.1 100 Continue\r\n\r\n" + head, false, head.length() - 1, 100), "each head has the limit");

        assertEquals("ERROR at 39 BODY_TOO_LARGE: response body too large",
            splitInvariant("GET", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", false, 64, 10).get(0),
            "a declared length over the limit is refused at the head");
        assertEquals("ERROR at 60 BODY_TOO_LARGE: response body too large",
            splitInvariant("GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", false,
                64, 10).get(1), "at the chunk size that passes it");
        assertEquals("ERROR at 29 BODY_TOO_LARGE: response body too large",
            splitInvariant("GET", "HTTP/1.1 200 OK\r\n\r\nhello world", true, 64, 10).get(1), "a close-delimited body, at its limit");
        assertEquals("EOF COMPLETE body=helloworld", splitInvariant("GET", "HTTP/1.1 200 OK\r\n\r\nhelloworld", true, 64, 10).get(1));

        final String chunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        final String trailers = "0\r\nA: " + "a".repeat(20) + "\r\n\r\n";
        assertEquals("COMPLETE at " + (chunkedHead.length() + trailers.length()) + " body=",
            splitInvariant("GET", chunkedHead + trailers, false, chunkedHead.length() + trailers.length() - 3, 10).get(1),
            "the trailer section shares the head's limit; the last-chunk line is not part of it");
        assertEquals("ERROR at " + (chunkedHead.length() + trailers.length()) + " TRAILERS_TOO_LARGE: trailer section too large",
            splitInvariant("GET", chunkedHead + trailers, false, chunkedHead.length() + trailers.length() - 4, 10).get(1));
    }

    @Test
    void aResetParserReadsTheNextResponse()
    {
        final String three = OK_HELLO + "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n" +
            "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 4\r\n\r\noops" + "junk";
        final List<String> events = splitInvariant("GET", three, false);
        assertEquals(7, events.size(), events::toString);
        final int second = OK_HELLO.length() + headEnd("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        assertEquals("COMPLETE at " + second + " body=", events.get(3));
        assertEquals("COMPLETE at " + (three.length() - 4) + " body=oops", events.get(5));
        assertEquals("LEFT 4", events.get(6), "nothing is read after a response that closes");
    }

    @Test
    void misuseFailsFast()
    {
        final HttpResponseParser fresh = new HttpResponseParser();
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> fresh.feed(ascii(OK_HELLO)));
        assertTrue(e.getMessage().contains("reset(requestMethod)"), e.getMessage());
        assertThrows(IllegalStateException.class, fresh::endOfInput);
        assertThrows(IllegalArgumentException.class, () -> fresh.reset(null));
        assertThrows(IllegalArgumentException.class, () -> new HttpResponseParser(63, 0));
        assertThrows(IllegalArgumentException.class, () -> new HttpResponseParser(64, -1));
    }

    @Test
    void whatTheServerEncodesTheClientParses()
    {
        final ByteBuffer dst = ByteBuffer.allocate(ResponseEncoder.MAX_HEAD_BYTES + 64);
        for (int status = 100; status <= 599; status++)
        {
            dst.clear();
            final long length = status == 204 || status == 304 || status < 200 ? -1 : 3;
            ResponseEncoder.head(dst, status, HeaderBlock.TEXT_PLAIN, length, ResponseEncoder.CONNECTION_DEFAULT, null);
            if (length > 0)
            {
                dst.put((byte)'a').put((byte)'b').put((byte)'c');
            }
            dst.flip();
            parser.reset("GET");
            final int first = parser.feed(dst);
            assertEquals(status < 200 && status != 101 ? INTERIM_HEAD : FINAL_HEAD, first, "status " + status);
            assertEquals(status, parser.status());
            assertEquals(ResponseEncoder.reason(status), parser.reason());
            assertEquals("Millrace", parser.header("Server"));
            if (first == FINAL_HEAD && status != 101)
            {
                assertEquals(length > 0 ? BODY_PART : COMPLETE, parser.feed(dst), "status " + status);
                assertTrue(parser.keepAlive(), "status " + status);
            }
        }
    }
}
