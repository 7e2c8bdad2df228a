package io.millrace.http;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResponseEncoderTest
{
    private static String encode(final int status, final String type, final long length, final boolean close,
        final String extra)
    {
        final ByteBuffer dst = ByteBuffer.allocate(ResponseEncoder.MAX_HEAD_BYTES);
        ResponseEncoder.head(dst, status, type, length, close, extra);
        assertEquals(ResponseEncoder.headSize(status, type, length, close, extra), dst.position(), "headSize is exact");
        return new String(dst.array(), 0, dst.position(), StandardCharsets.US_ASCII);
    }

    @Test
    void writesStatusLineAndFieldsInOrder()
    {
        final String head = encode(200, "text/plain; charset=utf-8", 12, false, "X-A: 1\r\nX-B: 2\r\n");
        final String[] lines = head.split("\r\n", -1);
        assertEquals("HTTP/1.1 200 OK", lines[0]);
        assertTrue(lines[1].startsWith("Date: "), lines[1]);
        assertTrue(HttpDate.parse(lines[1].substring(6)) > 0, lines[1]);
        assertEquals("Server: Millrace", lines[2]);
        assertEquals("Content-Type: text/plain; charset=utf-8", lines[3]);
        assertEquals("Content-Length: 12", lines[4]);
        assertEquals("X-A: 1", lines[5]);
        assertEquals("X-B: 2", lines[6]);
        assertEquals("", lines[7]);
        assertEquals("", lines[8]);
        assertEquals(9, lines.length, "ends with one blank line");
    }

    @Test
    void closesAndOmitsWhatWasNotAskedFor()
    {
        final String head = encode(404, null, 0, true, null);
        assertTrue(head.startsWith("HTTP/1.1 404 Not Found\r\n"), head);
        assertTrue(head.contains("\r\nContent-Length: 0\r\n"), head);
        assertTrue(head.endsWith("\r\nConnection: close\r\n\r\n"), head);
        assertFalse(head.contains("Content-Type"), head);
        assertFalse(encode(200, null, 5, false, null).contains("Connection"));
    }

    @Test
    void sendsNoContentLengthWhereThereIsNoBody()
    {
        assertFalse(encode(204, null, 0, false, null).contains("Content-Length"));
        assertFalse(encode(100, null, 0, false, null).contains("Content-Length"));
        assertFalse(encode(200, "text/event-stream", -1, true, null).contains("Content-Length"));
        assertTrue(encode(304, null, 0, false, null).contains("Content-Length: 0"));
        assertTrue(encode(200, null, Long.MAX_VALUE, false, null).contains("Content-Length: 9223372036854775807\r\n"));
    }

    @Test
    void knowsTheReasonPhrases()
    {
        final int[] statuses = {200, 201, 204, 304, 400, 403, 404, 405, 408, 413, 431, 500, 501, 503, 505};
        for (final int status : statuses)
        {
            assertNotEquals("", ResponseEncoder.reason(status), "status " + status);
        }
        assertEquals("Request Header Fields Too Large", ResponseEncoder.reason(431));
        assertEquals("HTTP Version Not Supported", ResponseEncoder.reason(505));
        assertEquals("", ResponseEncoder.reason(299));
        assertTrue(encode(299, null, 0, false, null).startsWith("HTTP/1.1 299 \r\n"), "empty reason keeps its space");
    }

    @Test
    void refusesValuesThatCouldSplitTheResponse()
    {
        final ByteBuffer dst = ByteBuffer.allocate(ResponseEncoder.MAX_HEAD_BYTES);
        for (final String extra : new String[] {"X: 1", "X: 1\n", "X: 1\r", "X: 1\r\n\r\n", "\r\n", "X: 1\r\nY: 2",
            "X: \u00e9\r\n", "X: a\u0000\r\n", "X: a\rb\r\n"})
        {
            assertThrows(IllegalArgumentException.class, () -> ResponseEncoder.head(dst, 200, null, 0, false, extra), extra);
        }
        assertThrows(IllegalArgumentException.class,
            () -> ResponseEncoder.head(dst, 200, "text/html\r\nSet-Cookie: x=1", 0, false, null));
        assertThrows(IllegalArgumentException.class, () -> ResponseEncoder.head(dst, 99, null, 0, false, null));
        assertThrows(IllegalArgumentException.class, () -> ResponseEncoder.head(dst, 1000, null, 0, false, null));
        assertEquals(0, dst.position(), "nothing written when refused");
    }

    @Test
    void refusesHeadsLargerThanTheLimitOrTheBuffer()
    {
        final String big = "X-Big: " + "b".repeat(ResponseEncoder.MAX_HEAD_BYTES) + "\r\n";
        assertThrows(IllegalArgumentException.class, () -> ResponseEncoder.headSize(200, null, 0, false, big));
        final ByteBuffer small = ByteBuffer.allocate(64);
        small.put((byte)'x');
        assertThrows(IllegalArgumentException.class, () -> ResponseEncoder.head(small, 200, "text/plain", 0, false, null));
        assertEquals(1, small.position(), "nothing written when it does not fit");
        final ByteBuffer exact = ByteBuffer.allocate(ResponseEncoder.headSize(200, "text/plain", 0, false, null));
        ResponseEncoder.head(exact, 200, "text/plain", 0, false, null);
        assertEquals(0, exact.remaining());
    }
}
