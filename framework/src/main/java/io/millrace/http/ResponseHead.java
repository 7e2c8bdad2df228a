package io.millrace.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static io.millrace.http.HttpSyntax.SP;
import static io.millrace.http.HttpSyntax.equalsIgnoreCase;
import static io.millrace.http.HttpSyntax.indexOf;
import static io.millrace.http.HttpSyntax.isOws;
import static io.millrace.http.HttpSyntax.isTchar;

/**
 * A response's head as {@link HttpResponseParser} assembles it, the mirror of {@link RequestHead}:
 * the bytes of the status line and field lines (CRLFs dropped) in one reused array, what each line
 * means, and whether the framing fields agree. The parser hands it one complete line at a time,
 * already known to hold only field bytes (no control byte but HTAB).
 *
 * <p>What the framing fields say is checked here on their own, whatever the status: a response
 * whose Content-Length or Transfer-Encoding is invalid or contradictory is refused even where it
 * has no body (HEAD, 204, 304), as nginx's upstream module does, because a proxy that forwarded
 * such a head would hand the contradiction on. Whether a body follows is the parser's decision
 * (status and request method).
 */
final class ResponseHead
{
    private static final byte[] HTTP_1 = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);
    /** A head starts this small and grows, up to its capacity, only for large heads. */
    private static final int FIRST_CAPACITY = 1024;

    private final HeaderFields fields = new HeaderFields();
    private final int capacity;
    private byte[] head;
    private int length;
    private int lineStart;

    private int status;
    private int versionMinor;
    private int reasonStart;
    private int reasonEnd;
    private String reason;
    private long contentLength;
    private int contentLengthFields;
    private int transferEncoding;
    private int transferEncodingFields;
    private int connectionOptions;
    private ResponseError error;
    private String errorReason;

    /**
     * @param capacity the most bytes a head may store
     */
    ResponseHead(final int capacity)
    {
        this.capacity = capacity;
        head = new byte[Math.min(capacity, FIRST_CAPACITY)];
        clear();
    }

    void clear()
    {
        if (head.length > 4 * FIRST_CAPACITY)
        {
            // A rare large head does not keep its array on an idle keep-alive connection.
            head = new byte[FIRST_CAPACITY];
        }
        length = 0;
        lineStart = 0;
        fields.clear();
        status = 0;
        versionMinor = 0;
        reasonStart = 0;
        reasonEnd = 0;
        reason = null;
        contentLength = -1;
        contentLengthFields = 0;
        transferEncoding = -1;
        transferEncodingFields = 0;
        connectionOptions = 0;
        error = null;
        errorReason = null;
    }

    /** Appends a byte of the current line. The caller bounds the head, so there is always room. */
    void store(final int b)
    {
        if (length == head.length)
        {
            head = Arrays.copyOf(head, Math.min(capacity, head.length * 2));
        }
        head[length++] = (byte)b;
    }

    /** @return whether the current line has no bytes */
    boolean lineEmpty()
    {
        return lineStart == length;
    }

    /**
     * Parses the current line as the status line ({@code HTTP-version SP 3DIGIT [SP reason]}) and
     * moves to the next. The SP after the status is required by RFC 9112 section 4 even with no
     * reason phrase, but a line that ends right after the digits is accepted, as nginx and Netty
     * accept it: nothing about the framing depends on it.
     *
     * @return false if it is not one; then {@link #error()} says why
     */
    boolean statusLine()
    {
        final int start = lineStart;
        final int end = length;
        lineStart = length;
        final int sp = indexOf(head, start, end, SP);
        final int versionEnd = sp < 0 ? end : sp;
        if (!version(start, versionEnd))
        {
            return false;
        }
        final int digits = versionEnd + 1;
        if (sp < 0 || end - digits < 3 || (end > digits + 3 && head[digits + 3] != SP))
        {
            return fail(ResponseError.MALFORMED_STATUS_LINE, "malformed status line");
        }
        final long code = HttpSyntax.parseDigits(head, digits, digits + 3);
        if (code < 100 || code > 599)
        {
            return fail(ResponseError.MALFORMED_STATUS_LINE, code < 0 ? "status is not three digits" : "status out of 100 to 599");
        }
        status = (int)code;
        reasonStart = Math.min(end, digits + 4);
        reasonEnd = end;
        return true;
    }

    private boolean version(final int start, final int end)
    {
        // HTTP-name is case-sensitive (RFC 9112 section 2.3).
        if (end - start == 8 && Arrays.equals(head, start, start + 7, HTTP_1, 0, 7) &&
            (head[end - 1] == '0' || head[end - 1] == '1'))
        {
            versionMinor = head[end - 1] - '0';
            return true;
        }
        final int n = end - start;
        final boolean wellFormed = (n == 6 || n == 8 && head[start + 6] == '.') &&
            Arrays.equals(head, start, start + 5, HTTP_1, 0, 5) && isDigit(head[start + 5]) && isDigit(head[end - 1]);
        return wellFormed ? fail(ResponseError.UNSUPPORTED_VERSION, "HTTP version not supported")
            : fail(ResponseError.MALFORMED_STATUS_LINE, "malformed HTTP version");
    }

    private static boolean isDigit(final byte b)
    {
        return b >= '0' && b <= '9';
    }

    /**
     * Parses the current line as a field line and moves to the next.
     *
     * @return false if it is not one; then {@link #error()} says why
     */
    boolean field()
    {
        final int start = lineStart;
        final int end = length;
        lineStart = length;
        if (isOws(head[start]))
        {
            return fail(ResponseError.MALFORMED_FIELD, "obsolete line folding");
        }
        final int colon = indexOf(head, start, end, ':');
        if (colon <= start)
        {
            return fail(ResponseError.MALFORMED_FIELD, colon < 0 ? "header field without colon" : "empty header field name");
        }
        for (int i = start; i < colon; i++)
        {
            if (!isTchar(head[i] & 0xFF))
            {
                return fail(ResponseError.MALFORMED_FIELD, "invalid header field name");
            }
        }
        final int valueStart = HttpSyntax.skipOws(head, colon + 1, end);
        final int valueEnd = HttpSyntax.trimOws(head, valueStart, end);
        final int index = fields.add(start, colon, valueStart, valueEnd);
        if (equalsIgnoreCase(head, start, colon, "content-length"))
        {
            if (++contentLengthFields > 1)
            {
                return fail(ResponseError.INVALID_CONTENT_LENGTH, "repeated Content-Length");
            }
            contentLength = HttpSyntax.parseDigits(head, valueStart, valueEnd);
            if (contentLength < 0)
            {
                return fail(ResponseError.INVALID_CONTENT_LENGTH, "invalid Content-Length");
            }
        }
        else if (equalsIgnoreCase(head, start, colon, "transfer-encoding"))
        {
            if (++transferEncodingFields > 1)
            {
                return fail(ResponseError.INVALID_TRANSFER_ENCODING, "repeated Transfer-Encoding");
            }
            transferEncoding = index;
        }
        else if (equalsIgnoreCase(head, start, colon, "connection"))
        {
            connectionOptions |= HttpSyntax.connectionOptions(head, valueStart, valueEnd);
        }
        return true;
    }

    /**
     * Checks the framing fields once the head is complete (RFC 9112 section 6). Transfer-Encoding
     * must be exactly {@code chunked}: section 6.3 would read a body whose last coding is not
     * chunked until the connection closes, and a list with chunked last would need us to apply
     * (or forward) the other codings; like nginx, we refuse both.
     *
     * @return false if they are invalid; then {@link #error()} says why
     */
    boolean framingValid()
    {
        if (transferEncoding < 0)
        {
            return true;
        }
        if (contentLengthFields > 0)
        {
            // Section 6.3 item 3: "ought to be handled as an error"; a proxy must not guess.
            return fail(ResponseError.INVALID_TRANSFER_ENCODING, "both Content-Length and Transfer-Encoding");
        }
        if (versionMinor == 0)
        {
            // Section 6.1: HTTP/1.0 framing with Transfer-Encoding is faulty.
            return fail(ResponseError.INVALID_TRANSFER_ENCODING, "Transfer-Encoding in an HTTP/1.0 response");
        }
        return equalsIgnoreCase(head, fields.valueStart(transferEncoding), fields.valueEnd(transferEncoding), "chunked") ||
            fail(ResponseError.INVALID_TRANSFER_ENCODING, "Transfer-Encoding other than chunked");
    }

    /** @return whether the connection may stay open after this response, by version and Connection options */
    boolean keepAliveByFields()
    {
        if ((connectionOptions & HttpSyntax.CONNECTION_CLOSE) != 0)
        {
            return false;
        }
        return versionMinor == 1 || (connectionOptions & HttpSyntax.CONNECTION_KEEP_ALIVE) != 0;
    }

    /** @return whether a (valid) Transfer-Encoding: chunked is present */
    boolean chunked()
    {
        return transferEncoding >= 0;
    }

    int status()
    {
        return status;
    }

    int versionMinor()
    {
        return versionMinor;
    }

    /** @return the reason phrase as sent, possibly empty; made once, on the first call */
    String reason()
    {
        if (reason == null && status != 0)
        {
            reason = new String(head, reasonStart, reasonEnd - reasonStart, StandardCharsets.ISO_8859_1);
        }
        return reason;
    }

    int reasonStart()
    {
        return reasonStart;
    }

    int reasonEnd()
    {
        return reasonEnd;
    }

    /** @return the Content-Length, -1 if absent */
    long contentLength()
    {
        return contentLength;
    }

    /** @return the head's bytes; field offsets index into it; valid until {@link #clear()} */
    byte[] bytes()
    {
        return head;
    }

    /** @return the fields' offsets into {@link #bytes()} */
    HeaderFields fields()
    {
        return fields;
    }

    ResponseError error()
    {
        return error;
    }

    String errorReason()
    {
        return errorReason;
    }

    private boolean fail(final ResponseError kind, final String why)
    {
        error = kind;
        errorReason = why;
        return false;
    }
}
