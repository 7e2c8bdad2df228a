package io.millrace.http;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static io.millrace.http.ResponseError.INVALID_CONTENT_LENGTH;
import static io.millrace.http.ResponseError.INVALID_TRANSFER_ENCODING;
import static io.millrace.http.ResponseError.MALFORMED_CHUNKED_BODY;
import static io.millrace.http.ResponseError.MALFORMED_FIELD;
import static io.millrace.http.ResponseError.MALFORMED_STATUS_LINE;
import static io.millrace.http.ResponseError.UNSUPPORTED_VERSION;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every malformed response gives its error, the same whether fed whole, byte by byte, split
 * anywhere or in random pieces.
 */
class HttpResponseParserErrorsTest
{
    private static final String OK = "HTTP/1.1 200 OK\r\n";
    private static final String CHUNKED = OK + "Transfer-Encoding: chunked\r\n\r\n";

    static Stream<Arguments> malformed()
    {
        return Stream.of(
            // The status line.
            bad("GET", "\r\n" + OK + "Content-Length: 0\r\n\r\n", MALFORMED_STATUS_LINE, "empty line before the status line"),
            bad("GET", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", MALFORMED_STATUS_LINE, "bare LF: lines must end in CRLF"),
            bad("GET", "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n", MALFORMED_STATUS_LINE, "bare CR in response head"),
            bad("GET", "HTTP/1.1 200 O\u0000K\r\n\r\n", MALFORMED_STATUS_LINE, "invalid byte in status line"),
            bad("GET", "HTTP/1.1 200 O\u007FK\r\n\r\n", MALFORMED_STATUS_LINE, "invalid byte in status line"),
            bad("GET", "http/1.1 200 OK\r\n\r\n", MALFORMED_STATUS_LINE, "malformed HTTP version"),
            bad("GET", "ICY 200 OK\r\n\r\n", MALFORMED_STATUS_LINE, "malformed HTTP version"),
            bad("GET", "HTTP/1.1\r\n\r\n", MALFORMED_STATUS_LINE, "malformed status line"),
            bad("GET", "HTTP/1.1 \r\n\r\n", MALFORMED_STATUS_LINE, "malformed status line"),
            bad("GET", "HTTP/1.1 20 OK\r\n\r\n", MALFORMED_STATUS_LINE, "malformed status line"),
            bad("GET", "HTTP/1.1 2000 OK\r\n\r\n", MALFORMED_STATUS_LINE, "malformed status line"),
            bad("GET", "HTTP/1.1  200 OK\r\n\r\n", MALFORMED_STATUS_LINE, "malformed status line"),
            bad("GET", "HTTP/1.1  20 OK\r\n\r\n", MALFORMED_STATUS_LINE, "status is not three digits"),
            bad("GET", "HTTP/1.1 2x0 OK\r\n\r\n", MALFORMED_STATUS_LINE, "status is not three digits"),
            bad("GET", "HTTP/1.1 099 Low\r\n\r\n", MALFORMED_STATUS_LINE, "status out of 100 to 599"),
            bad("GET", "HTTP/1.1 600 High\r\n\r\n", MALFORMED_STATUS_LINE, "status out of 100 to 599"),
            bad("GET", "HTTP/1.0 100 Continue\r\n\r\n", MALFORMED_STATUS_LINE, "1xx status in an HTTP/1.0 response"),
            bad("GET", "HTTP/1.0 101 Switching Protocols\r\n\r\n", MALFORMED_STATUS_LINE, "1xx status in an HTTP/1.0 response"),
            bad("GET", "HTTP/2.0 200 OK\r\n\r\n", UNSUPPORTED_VERSION, "HTTP version not supported"),
            bad("GET", "HTTP/2 200 OK\r\n\r\n", UNSUPPORTED_VERSION, "HTTP version not supported"),
            bad("GET", "HTTP/1.2 200 OK\r\n\r\n", UNSUPPORTED_VERSION, "HTTP version not supported"),
            bad("GET", "HTTP/0.9 200 OK\r\n\r\n", UNSUPPORTED_VERSION, "HTTP version not supported"),
            // Field lines.
            bad("GET", OK + " X: folded first\r\n\r\n", MALFORMED_FIELD, "obsolete line folding"),
            bad("GET", OK + "X: a\r\n\tfolded\r\n\r\n", MALFORMED_FIELD, "obsolete line folding"),
            bad("GET", OK + "X : a\r\n\r\n", MALFORMED_FIELD, "invalid header field name"),
            bad("GET", OK + "X(y): a\r\n\r\n", MALFORMED_FIELD, "invalid header field name"),
            bad("GET", OK + "No colon\r\n\r\n", MALFORMED_FIELD, "header field without colon"),
            bad("GET", OK + ": empty name\r\n\r\n", MALFORMED_FIELD, "empty header field name"),
            bad("GET", OK + "X: a\u0001b\r\n\r\n", MALFORMED_FIELD, "invalid byte in header field"),
            bad("GET", OK + "X: a\rb\r\n\r\n", MALFORMED_FIELD, "bare CR in response head"),
            bad("GET", OK + "X: a\nY: b\r\n\r\n", MALFORMED_FIELD, "bare LF: lines must end in CRLF"),
            bad("GET", OK + "X: a\r\n\n", MALFORMED_FIELD, "bare LF: lines must end in CRLF"),
            // Content-Length, whatever the status and method.
            bad("GET", OK + "Content-Length: 5, 5\r\n\r\nhello", INVALID_CONTENT_LENGTH, "invalid Content-Length"),
            bad("GET", OK + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", INVALID_CONTENT_LENGTH, "repeated Content-Length"),
            bad("GET", OK + "Content-Length: -1\r\n\r\n", INVALID_CONTENT_LENGTH, "invalid Content-Length"),
            bad("GET", OK + "Content-Length: +5\r\n\r\n", INVALID_CONTENT_LENGTH, "invalid Content-Length"),
            bad("GET", OK + "Content-Length: 0x10\r\n\r\n", INVALID_CONTENT_LENGTH, "invalid Content-Length"),
            bad("GET", OK + "Content-Length:\r\n\r\n", INVALID_CONTENT_LENGTH, "invalid Content-Length"),
            bad("GET", OK + "Content-Length: 99999999999999999999\r\n\r\n", INVALID_CONTENT_LENGTH, "invalid Content-Length"),
            bad("HEAD", OK + "Content-Length: abc\r\n\r\n", INVALID_CONTENT_LENGTH, "invalid Content-Length"),
            bad("GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\n", INVALID_CONTENT_LENGTH,
                "repeated Content-Length"),
            // Transfer-Encoding.
            bad("GET", OK + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", INVALID_TRANSFER_ENCODING,
                "both Content-Length and Transfer-Encoding"),
            bad("GET", OK + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", INVALID_TRANSFER_ENCODING,
                "both Content-Length and Transfer-Encoding"),
            bad("HEAD", OK + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", INVALID_TRANSFER_ENCODING,
                "both Content-Length and Transfer-Encoding"),
            bad("GET", OK + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", INVALID_TRANSFER_ENCODING,
                "repeated Transfer-Encoding"),
            bad("GET", OK + "Transfer-Encoding: gzip\r\n\r\n", INVALID_TRANSFER_ENCODING, "Transfer-Encoding other than chunked"),
            bad("GET", OK + "Transfer-Encoding: gzip, chunked\r\n\r\n", INVALID_TRANSFER_ENCODING, "Transfer-Encoding other than chunked"),
            bad("GET", OK + "Transfer-Encoding: chunked, chunked\r\n\r\n", INVALID_TRANSFER_ENCODING,
                "Transfer-Encoding other than chunked"),
            bad("GET", OK + "Transfer-Encoding: identity\r\n\r\n", INVALID_TRANSFER_ENCODING, "Transfer-Encoding other than chunked"),
            bad("GET", OK + "Transfer-Encoding: \r\n\r\n", INVALID_TRANSFER_ENCODING, "Transfer-Encoding other than chunked"),
            bad("GET", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", INVALID_TRANSFER_ENCODING,
                "Transfer-Encoding in an HTTP/1.0 response"),
            // Chunked framing.
            bad("GET", CHUNKED + "zz\r\n", MALFORMED_CHUNKED_BODY, "missing chunk size"),
            bad("GET", CHUNKED + "5\nhello\r\n", MALFORMED_CHUNKED_BODY, "bare LF in chunk size line"),
            bad("GET", CHUNKED + "5 \r\nhello\r\n", MALFORMED_CHUNKED_BODY, "invalid chunk size line"),
            bad("GET", CHUNKED + "5\r\nhelloXX", MALFORMED_CHUNKED_BODY, "chunk data not followed by CRLF"),
            bad("GET", CHUNKED + "10000000000000000\r\n", MALFORMED_CHUNKED_BODY, "chunk size too large"),
            bad("GET", CHUNKED + "5;a=\u0001\r\n", MALFORMED_CHUNKED_BODY, "invalid byte in chunk extension"),
            bad("GET", CHUNKED + "0\r\nBad Name: x\r\n\r\n", MALFORMED_CHUNKED_BODY, "invalid trailer field name"),
            bad("GET", CHUNKED + "0\r\nA: x\r\n folded\r\n\r\n", MALFORMED_CHUNKED_BODY, "obsolete line folding in trailer section"),
            bad("GET", CHUNKED + "0\r\n\rX", MALFORMED_CHUNKED_BODY, "bare CR after trailer section"));
    }

    private static Arguments bad(final String method, final String response, final ResponseError error, final String reason)
    {
        return Arguments.of(method, response, error, reason);
    }

    @ParameterizedTest(name = "{2}: {3}")
    @MethodSource("malformed")
    void isRefused(final String method, final String response, final ResponseError error, final String reason)
    {
        final List<String> events = ResponseHarness.splitInvariant(method, response, true);
        final String last = events.get(events.size() - 1);
        assertTrue(last.startsWith("ERROR at ") && last.endsWith(" " + error + ": " + reason), () -> response + " gave " + events);
        final HttpResponseParser p = new HttpResponseParser();
        p.reset(method);
        java.nio.ByteBuffer src = java.nio.ByteBuffer.wrap(ResponseHarness.bytes(response));
        int r;
        do
        {
            r = p.feed(src);
        }
        while (r != HttpResponseParser.ERROR && r != HttpResponseParser.NEED_MORE);
        assertEquals(HttpResponseParser.ERROR, r);
        assertEquals(error, p.error());
        assertEquals(reason, p.errorReason());
    }

    @ParameterizedTest(name = "chunk extensions over the limit")
    @MethodSource("extensions")
    void chunkExtensionsAreBounded(final String response)
    {
        final List<String> events = ResponseHarness.splitInvariant("GET", response, false, 128, 1000);
        assertTrue(events.get(events.size() - 1).endsWith("MALFORMED_CHUNKED_BODY: chunk extensions too long"), events::toString);
    }

    static Stream<String> extensions()
    {
        return Stream.of(CHUNKED + "1;" + "e".repeat(129) + "\r\n", CHUNKED + ("1;" + "e".repeat(40) + "\r\nx\r\n").repeat(4));
    }
}
