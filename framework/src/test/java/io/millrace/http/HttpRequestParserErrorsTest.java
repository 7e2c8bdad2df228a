package io.millrace.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.util.stream.Stream;

import static io.millrace.http.HttpRequestParser.ERROR;
import static io.millrace.http.HttpRequestParser.NEED_MORE;
import static io.millrace.http.ParserHarness.ascii;
import static io.millrace.http.ParserHarness.feedByteAtATime;
import static io.millrace.http.ParserHarness.feedWhole;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class HttpRequestParserErrorsTest
{
    private static final String H = "Host: h\r\n";
    private static final String CHUNKED_POST = "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n";

    static Stream<Arguments> badRequests()
    {
        return Stream.of(
            // request line: 400
            arguments(400, "GET  / HTTP/1.1\r\n" + H + "\r\n"),
            arguments(400, "GET /\r\n" + H + "\r\n"),
            arguments(400, "GET / \r\n" + H + "\r\n"),
            arguments(400, " GET / HTTP/1.1\r\n" + H + "\r\n"),
            arguments(400, "GET / HTTP/1.1 \r\n" + H + "\r\n"),
            arguments(400, "GET /a b HTTP/1.1\r\n" + H + "\r\n"),
            arguments(400, "G@T / HTTP/1.1\r\n" + H + "\r\n"),
            arguments(400, "GET\t/ HTTP/1.1\r\n" + H + "\r\n"),
            arguments(400, "GET / http/1.1\r\n" + H + "\r\n"),
            arguments(400, "GET / HTTP/1.1x\r\n" + H + "\r\n"),
            arguments(400, "GET / HTTP/1.10\r\n" + H + "\r\n"),
            arguments(400, "GET / HTTP/\r\n" + H + "\r\n"),
            arguments(400, "GET relative HTTP/1.1\r\n" + H + "\r\n"),
            arguments(400, "GET /page#frag HTTP/1.1\r\n" + H + "\r\n"),
            arguments(400, "GET * HTTP/1.1\r\n" + H + "\r\n"),
            arguments(400, "GET /caf\u00e9 HTTP/1.1\r\n" + H + "\r\n"),
            // versions: 505
            arguments(505, "GET / HTTP/2.0\r\n" + H + "\r\n"),
            arguments(505, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            arguments(505, "GET / HTTP/3\r\n" + H + "\r\n"),
            arguments(505, "GET / HTTP/1.2\r\n" + H + "\r\n"),
            arguments(505, "GET / HTTP/0.9\r\n" + H + "\r\n"),
            // line endings and bytes: 400
            arguments(400, "GET / HTTP/1.1\nHost: h\n\n"),
            arguments(400, "GET / HTTP/1.1\r\nHost: h\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\r\n" + H + "\r\n"),
            arguments(400, "GET / HTTP/1.1\r\nX: a\rb\r\n" + H + "\r\n"),
            arguments(400, "GET / HTTP/1.1\r\n" + H + "\r\r\n"),
            arguments(400, "GET / HTTP/1.1\r\nX: a\u0000b\r\n" + H + "\r\n"),
            arguments(400, "GET / HTTP/1.1\r\nX: a\u007fb\r\n" + H + "\r\n"),
            arguments(400, "GET / HTTP/1.1\r\nX: a\u001bb\r\n" + H + "\r\n"),
            // field lines: 400
            arguments(400, "GET / HTTP/1.1\r\nHost : h\r\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\n" + H + "X-Bad\t: v\r\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\n" + H + "Bad Name: v\r\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\n" + H + "NoColon\r\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\n" + H + ": empty name\r\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\n" + H + "X-Fold: a\r\n  b\r\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\n" + H + "X-Fold: a\r\n\tb\r\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\n " + H + "\r\n"),
            arguments(400, "GET / HTTP/1.1\r\n" + H + "X(y): v\r\n\r\n"),
            // Host: 400
            arguments(400, "GET / HTTP/1.1\r\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\nX-Host: h\r\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
            arguments(400, "GET / HTTP/1.1\r\nHost: user@evil\r\n\r\n"),
            // Content-Length: 400
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Content-Length: abc\r\n\r\n"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Content-Length: -1\r\n\r\n"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Content-Length: +1\r\n\r\nx"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Content-Length: 0x10\r\n\r\n"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Content-Length: 1 2\r\n\r\n"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Content-Length: 1,1\r\n\r\nx"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Content-Length:\r\n\r\n"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Content-Length: 99999999999999999999\r\n\r\n"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Content-Length: 1\r\ncontent-length: 2\r\n\r\nxx"),
            // framing conflicts: 400
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
            arguments(400, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            // Transfer-Encoding: 501
            arguments(501, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip\r\n\r\n"),
            arguments(501, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, chunked\r\n\r\n"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, identity\r\n\r\n"),
            arguments(400, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, gzip\r\n\r\n"),
            // unknown methods: 501
            arguments(501, "PROPFIND / HTTP/1.1\r\n" + H + "\r\n"),
            arguments(501, "BREW /pot HTTP/1.1\r\n" + H + "\r\n"),
            arguments(501, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: identity\r\n\r\n"),
            arguments(501, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: xchunked\r\n\r\n"),
            arguments(501, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding:\r\n\r\n"),
            // chunked framing: 400
            arguments(400, CHUNKED_POST + "g\r\n"),
            arguments(400, CHUNKED_POST + "\r\n"),
            arguments(400, CHUNKED_POST + ";ext\r\n"),
            arguments(400, CHUNKED_POST + "-1\r\n"),
            arguments(400, CHUNKED_POST + "0x5\r\nhello\r\n0\r\n\r\n"),
            arguments(400, CHUNKED_POST + "10000000000000000\r\n"),
            arguments(400, CHUNKED_POST + "FFFFFFFFFFFFFFFF\r\n"),
            arguments(400, CHUNKED_POST + "00000000000000001\r\nx\r\n0\r\n\r\n"),
            arguments(400, CHUNKED_POST + "5\nhello\r\n0\r\n\r\n"),
            arguments(400, CHUNKED_POST + "5\rhello\r\n0\r\n\r\n"),
            arguments(400, CHUNKED_POST + "5 \r\nhello\r\n0\r\n\r\n"),
            arguments(400, CHUNKED_POST + "5;a\u0000b\r\nhello\r\n0\r\n\r\n"),
            arguments(400, CHUNKED_POST + "5\r\nhelloX\r\n0\r\n\r\n"),
            arguments(400, CHUNKED_POST + "5\r\nhelloX\n0\r\n\r\n"),
            arguments(400, CHUNKED_POST + "5\r\nhello\rX0\r\n\r\n"),
            arguments(400, CHUNKED_POST + "5\r\nhello\n0\r\n\r\n"),
            arguments(400, CHUNKED_POST + "5\r\nhello\r0\r\n\r\n"),
            arguments(400, CHUNKED_POST + "3\r\nhello\r\n0\r\n\r\n"),
            arguments(400, CHUNKED_POST + "0\r\nTrailer: a\r\n folded\r\n\r\n"),
            arguments(400, CHUNKED_POST + "0\r\nNo colon\r\n\r\n"),
            arguments(400, CHUNKED_POST + "0\r\nT: a\nU: b\r\n\r\n"),
            arguments(400, CHUNKED_POST + "0\r\nT: a\u0001\r\n\r\n"),
            arguments(400, CHUNKED_POST + "0\r\n\n"),
            arguments(400, CHUNKED_POST + "0\n\r\n"),
            // bodies too large: 413
            arguments(413, "POST / HTTP/1.1\r\n" + H + "Content-Length: 1048577\r\n\r\n"),
            arguments(413, "POST / HTTP/1.1\r\n" + H + "Content-Length: 9223372036854775807\r\n\r\n"),
            arguments(413, CHUNKED_POST + "100001\r\n"),
            arguments(413, CHUNKED_POST + "80000\r\n" + "a".repeat(0x80000) + "\r\n80001\r\n"),
            arguments(413, CHUNKED_POST + "1;" + "e".repeat(9000) + "\r\n"),
            // header section too large: 431
            arguments(431, "GET / HTTP/1.1\r\n" + H + "X-Big: " + "b".repeat(8200) + "\r\n\r\n"),
            arguments(414, "GET /" + "p".repeat(8200) + " HTTP/1.1\r\n" + H + "\r\n"),
            arguments(431, "\r\n".repeat(5000) + "GET / HTTP/1.1\r\n" + H + "\r\n"),
            arguments(431, "GET / HTTP/1.1\r\n" + H + "X: v\r\n".repeat(2000) + "\r\n"),
            arguments(431, CHUNKED_POST + "0\r\n" + "Trailer: t\r\n".repeat(1000) + "\r\n"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("badRequests")
    void refusesWithTheRightStatusFedWhole(final int status, final String request)
    {
        final HttpRequestParser parser = new HttpRequestParser();
        assertEquals(ERROR, feedWhole(parser, request), () -> "should refuse: " + printable(request));
        assertEquals(status, parser.errorStatus(), parser::errorReason);
        assertNotNull(parser.errorReason());
        assertFalse(parser.keepAlive());
        assertEquals(ERROR, ParserHarness.feed(parser, ascii("GET / HTTP/1.1\r\nHost: h\r\n\r\n")), "stays failed until reset");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("badRequests")
    void refusesWithTheSameStatusFedOneByteAtATime(final int status, final String request)
    {
        final HttpRequestParser parser = new HttpRequestParser();
        final int[] verdict = feedByteAtATime(parser, request);
        assertEquals(ERROR, verdict[0], () -> "should refuse: " + printable(request));
        assertEquals(status, parser.errorStatus(), parser::errorReason);
    }

    @Test
    void refusesATlsHandshakeAtItsFirstByte()
    {
        final HttpRequestParser parser = new HttpRequestParser();
        final ByteBuffer hello = ByteBuffer.wrap(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01});
        assertEquals(ERROR, ParserHarness.feed(parser, hello));
        assertEquals(400, parser.errorStatus());
        assertEquals(1, hello.position(), "decided on the first byte, without waiting for a line end");
    }

    @Test
    void countsChunkedBodyAgainstASmallLimitAsChunksArrive()
    {
        final HttpRequestParser parser = new HttpRequestParser(1024, 10);
        final ByteBuffer first = ascii(CHUNKED_POST + "6\r\nabcdef\r\n");
        assertEquals(NEED_MORE, ParserHarness.feed(parser, first));
        assertEquals(ERROR, ParserHarness.feed(parser, ascii("5\r\n")));
        assertEquals(413, parser.errorStatus());
    }

    @Test
    void recoversAfterReset()
    {
        final HttpRequestParser parser = new HttpRequestParser();
        assertEquals(ERROR, feedWhole(parser, "GET / HTTP/2.0\r\n\r\n"));
        parser.reset();
        assertEquals(HttpRequestParser.COMPLETE, feedWhole(parser, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(0, parser.errorStatus());
        assertEquals(null, parser.errorReason());
    }

    private static String printable(final String s)
    {
        final String cut = s.length() > 120 ? s.substring(0, 120) + "..." : s;
        return cut.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t");
    }
}
