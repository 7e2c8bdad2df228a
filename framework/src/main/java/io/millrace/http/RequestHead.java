package io.millrace.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static io.millrace.http.HttpSyntax.SP;
import static io.millrace.http.HttpSyntax.equalsIgnoreCase;
import static io.millrace.http.HttpSyntax.indexOf;
import static io.millrace.http.HttpSyntax.isOws;
import static io.millrace.http.HttpSyntax.isTchar;

/**
 * A request's head as the parser assembles it: the bytes of the request line and field lines
 * (CRLFs dropped) in one reused array, what each line means, and whether the framing fields agree.
 * The parser hands it one complete line at a time; the line's bytes are already known to be free
 * of control characters (other than HTAB in fields).
 */
final class RequestHead
{
    /** {@link #framing()}: no body. */
    static final int NO_BODY = 0;
    /** {@link #framing()}: a body of {@link #contentLength()} bytes. */
    static final int LENGTH = 1;
    /** {@link #framing()}: a chunked body. */
    static final int CHUNKED = 2;

    private static final byte[] HTTP_1 = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);

    /** {@link #expect()}: no Expect field. */
    static final int EXPECT_NONE = 0;
    /** {@link #expect()}: {@code Expect: 100-continue}. */
    static final int EXPECT_CONTINUE = 1;
    /** {@link #expect()}: an Expect field with another expectation (417). */
    static final int EXPECT_OTHER = 2;

    /** The path of an absolute-form target with no path of its own. */
    private static final byte[] ROOT = {'/'};
    /** A head starts this small and grows, up to its capacity, only for large heads. */
    private static final int FIRST_CAPACITY = 1024;

    private final HeaderFields fields = new HeaderFields();
    private int length;
    private int lineStart;

    private byte[] head;
    private final int capacity;
    private String method;
    private int targetStart;
    private int targetEnd;
    private byte[] pathArray;
    private int pathStart;
    private int pathEnd;
    private int queryStart;
    private int queryEnd;
    private String target;
    private String path;
    private String query;
    private int versionMinor;
    private int expect;
    private long contentLength;
    private int transferEncoding;
    private int hostFields;
    private boolean connectionClose;
    private boolean connectionKeepAlive;
    private int errorStatus;
    private String errorReason;

    /**
     * @param capacity the most bytes a head may store
     */
    RequestHead(final int capacity)
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
        method = null;
        targetStart = 0;
        targetEnd = 0;
        pathArray = null;
        pathStart = 0;
        pathEnd = 0;
        queryStart = -1;
        queryEnd = -1;
        target = null;
        path = null;
        query = null;
        versionMinor = 0;
        expect = EXPECT_NONE;
        contentLength = -1;
        transferEncoding = -1;
        hostFields = 0;
        connectionClose = false;
        connectionKeepAlive = false;
        errorStatus = 0;
        errorReason = null;
    }

    /**
     * Appends a byte of the current line. The caller bounds the head, so there is always room.
     */
    void store(final int b)
    {
        if (length == head.length)
        {
            head = Arrays.copyOf(head, Math.min(capacity, head.length * 2));
        }
        head[length++] = (byte)b;
    }

    /** @return whether the request line is still being read */
    int length()
    {
        return length;
    }

    /** @return whether the current line has no bytes */
    boolean lineEmpty()
    {
        return lineStart == length;
    }

    /**
     * Parses the current line as the request line and moves to the next.
     *
     * @return false if it is not one; then {@link #errorStatus()} says why
     */
    boolean requestLine()
    {
        final boolean ok = requestLine(lineStart, length);
        lineStart = length;
        return ok;
    }

    /**
     * Parses the current line as a field line and moves to the next.
     *
     * @return false if it is not one; then {@link #errorStatus()} says why
     */
    boolean field()
    {
        final boolean ok = field(lineStart, length);
        lineStart = length;
        return ok;
    }

    /**
     * Checks the head as a whole once its last line is in: Host present for HTTP/1.1, framing
     * fields that agree (RFC 9112 section 6).
     *
     * @return {@link #NO_BODY}, {@link #LENGTH} or {@link #CHUNKED}; -1 if the head is invalid
     */
    int framing()
    {
        if (versionMinor == 1 && hostFields == 0)
        {
            return failure(400, "missing Host");
        }
        if (transferEncoding < 0)
        {
            return contentLength > 0 ? LENGTH : NO_BODY;
        }
        if (contentLength >= 0)
        {
            return failure(400, "both Content-Length and Transfer-Encoding");
        }
        if (versionMinor == 0)
        {
            // Section 6.1: HTTP/1.0 framing with Transfer-Encoding is faulty.
            return failure(400, "Transfer-Encoding in an HTTP/1.0 request");
        }
        final int start = fields.valueStart(transferEncoding);
        final int end = fields.valueEnd(transferEncoding);
        if (equalsIgnoreCase(head, start, end, "chunked"))
        {
            return CHUNKED;
        }
        // A list (RFC 9112 6.1, 6.3): chunked must be last and appear once, else the framing is
        // invalid (400: "chunked, chunked", "chunked, identity"); a coding we do not apply is 501.
        if (indexOf(head, start, end, ',') < 0 || !lastTokenIsChunked(start, end))
        {
            return indexOf(head, start, end, ',') < 0 ? failure(501, "unsupported Transfer-Encoding")
                : failure(400, "chunked is not the last transfer coding");
        }
        int i = start;
        while (i < end)
        {
            int comma = indexOf(head, i, end, ',');
            comma = comma < 0 ? end : comma;
            final int s = HttpSyntax.skipOws(head, i, comma);
            final int e = HttpSyntax.trimOws(head, s, comma);
            if (comma < end && (equalsIgnoreCase(head, s, e, "chunked") || equalsIgnoreCase(head, s, e, "identity")))
            {
                return failure(400, "invalid Transfer-Encoding list");
            }
            i = comma + 1;
        }
        return failure(501, "unsupported Transfer-Encoding");
    }

    /** @return whether the connection may stay open after this request, by version and Connection options */
    boolean keepAlive()
    {
        return versionMinor == 1 ? !connectionClose : connectionKeepAlive && !connectionClose;
    }

    private boolean lastTokenIsChunked(final int start, final int end)
    {
        return end - start >= 7 && equalsIgnoreCase(head, end - 7, end, "chunked") &&
            (end - start == 7 || head[end - 8] == ',' || isOws(head[end - 8]));
    }

    String method()
    {
        return method;
    }

    /** @return the target as sent; made once, on the first call */
    String target()
    {
        if (target == null && method != null)
        {
            target = new String(head, targetStart, targetEnd - targetStart, StandardCharsets.ISO_8859_1);
        }
        return target;
    }

    /** @return the path; made once, on the first call */
    String path()
    {
        if (path == null && pathArray != null)
        {
            path = new String(pathArray, pathStart, pathEnd - pathStart, StandardCharsets.ISO_8859_1);
        }
        return path;
    }

    /** @return the query without '?', or null; made once, on the first call */
    String query()
    {
        if (query == null && queryStart >= 0)
        {
            query = new String(head, queryStart, queryEnd - queryStart, StandardCharsets.ISO_8859_1);
        }
        return query;
    }

    /** @return the array that holds the path's bytes (the head, or a constant "/"); valid until {@link #clear()} */
    byte[] pathArray()
    {
        return pathArray;
    }

    int pathStart()
    {
        return pathStart;
    }

    int pathEnd()
    {
        return pathEnd;
    }

    /** @return {@link #EXPECT_NONE}, {@link #EXPECT_CONTINUE} or {@link #EXPECT_OTHER} */
    int expect()
    {
        return expect;
    }

    /** @return the head's bytes; field offsets index into it; valid until {@link #clear()} */
    byte[] bytes()
    {
        return head;
    }

    int versionMinor()
    {
        return versionMinor;
    }

    /** @return the Content-Length, -1 if absent */
    long contentLength()
    {
        return contentLength;
    }

    String header(final String name)
    {
        final int i = fields.find(head, name);
        return i < 0 ? null : fields.value(head, i);
    }

    /** @return the fields' offsets into {@link #bytes()} */
    HeaderFields fields()
    {
        return fields;
    }

    /** @return the index of the first field named {@code name}, or -1 */
    int fieldIndex(final String name)
    {
        return fields.find(head, name);
    }

    int fieldValueStart(final int index)
    {
        return fields.valueStart(index);
    }

    int fieldValueEnd(final int index)
    {
        return fields.valueEnd(index);
    }

    int headerCount()
    {
        return fields.count();
    }

    String headerName(final int index)
    {
        return fields.name(head, index);
    }

    String headerValue(final int index)
    {
        return fields.value(head, index);
    }

    int errorStatus()
    {
        return errorStatus;
    }

    String errorReason()
    {
        return errorReason;
    }

    private boolean requestLine(final int start, final int end)
    {
        final int sp1 = indexOf(head, start, end, SP);
        final int sp2 = sp1 < 0 ? -1 : indexOf(head, sp1 + 1, end, SP);
        if (sp1 <= start || sp2 < 0 || sp2 == sp1 + 1 || sp2 == end - 1 || indexOf(head, sp2 + 1, end, SP) >= 0)
        {
            return fail(400, "malformed request line");
        }
        for (int i = start; i < sp1; i++)
        {
            if (!isTchar(head[i] & 0xFF))
            {
                return fail(400, "invalid method");
            }
        }
        if (!version(sp2 + 1, end))
        {
            return false;
        }
        method = RequestTarget.method(head, start, sp1);
        if (method == null)
        {
            return fail(501, "method not implemented");
        }
        targetStart = sp1 + 1;
        targetEnd = sp2;
        return target(targetStart, targetEnd);
    }

    /**
     * Takes the target apart (RFC 9112 section 3.2) without making a String: for origin-form the
     * path runs up to {@code ?}; for absolute-form it is the part after the authority ({@code /} if
     * empty); for authority-form (CONNECT) and asterisk-form (OPTIONS) it is the target itself.
     */
    private boolean target(final int start, final int end)
    {
        if (indexOf(head, start, end, '#') >= 0)
        {
            return fail(400, "invalid request-target");
        }
        pathArray = head;
        if ("CONNECT".equals(method))
        {
            pathStart = start;
            pathEnd = end;
            return indexOf(head, start, end, '/') < 0 && indexOf(head, start, end, '?') < 0 || fail(400, "invalid request-target");
        }
        if (end - start == 1 && head[start] == '*')
        {
            pathStart = start;
            pathEnd = end;
            return "OPTIONS".equals(method) || fail(400, "invalid request-target");
        }
        final int q = indexOf(head, start, end, '?');
        final int beforeQuery = q < 0 ? end : q;
        if (q >= 0)
        {
            queryStart = q + 1;
            queryEnd = end;
        }
        if (head[start] == '/')
        {
            pathStart = start;
            pathEnd = beforeQuery;
            return true;
        }
        final int scheme = RequestTarget.schemeEnd(head, start, beforeQuery);
        if (scheme < 0)
        {
            return fail(400, "invalid request-target");
        }
        final int slash = indexOf(head, scheme + 3, beforeQuery, '/');
        if (slash < 0)
        {
            pathArray = ROOT;
            pathStart = 0;
            pathEnd = 1;
        }
        else
        {
            pathStart = slash;
            pathEnd = beforeQuery;
        }
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
        // Well formed but not ours: HTTP/2.0, HTTP/1.2, HTTP/0.9, and the bare HTTP/2 or HTTP/3.
        final int length = end - start;
        final boolean wellFormed = (length == 6 || length == 8 && head[start + 6] == '.') &&
            Arrays.equals(head, start, start + 5, HTTP_1, 0, 5) && isDigit(head[start + 5]) && isDigit(head[end - 1]);
        return wellFormed ? fail(505, "HTTP version not supported") : fail(400, "malformed HTTP version");
    }

    private static boolean isDigit(final byte b)
    {
        return b >= '0' && b <= '9';
    }

    private boolean field(final int start, final int end)
    {
        if (isOws(head[start]))
        {
            // obs-fold, or whitespace between the request line and the first field (section 2.2).
            return fail(400, "obsolete line folding");
        }
        final int colon = indexOf(head, start, end, ':');
        if (colon <= start)
        {
            return fail(400, colon < 0 ? "header field without colon" : "empty header field name");
        }
        for (int i = start; i < colon; i++)
        {
            if (!isTchar(head[i] & 0xFF))
            {
                return fail(400, "invalid header field name");
            }
        }
        int valueStart = colon + 1;
        int valueEnd = end;
        while (valueStart < valueEnd && isOws(head[valueStart]))
        {
            valueStart++;
        }
        while (valueEnd > valueStart && isOws(head[valueEnd - 1]))
        {
            valueEnd--;
        }
        final int index = fields.add(start, colon, valueStart, valueEnd);
        if (equalsIgnoreCase(head, start, colon, "content-length"))
        {
            if (contentLength >= 0)
            {
                return fail(400, "repeated Content-Length");
            }
            contentLength = HttpSyntax.parseDigits(head, valueStart, valueEnd);
            if (contentLength < 0)
            {
                return fail(400, "invalid Content-Length");
            }
        }
        else if (equalsIgnoreCase(head, start, colon, "transfer-encoding"))
        {
            if (transferEncoding >= 0)
            {
                return fail(400, "repeated Transfer-Encoding");
            }
            transferEncoding = index;
        }
        else if (equalsIgnoreCase(head, start, colon, "host"))
        {
            if (++hostFields > 1)
            {
                return fail(400, "repeated Host");
            }
            for (int i = valueStart; i < valueEnd; i++)
            {
                if (isOws(head[i]) || head[i] == ',' || head[i] == '/' || head[i] == '@')
                {
                    return fail(400, "invalid Host");
                }
            }
        }
        else if (equalsIgnoreCase(head, start, colon, "connection"))
        {
            final int options = HttpSyntax.connectionOptions(head, valueStart, valueEnd);
            connectionClose |= (options & HttpSyntax.CONNECTION_CLOSE) != 0;
            connectionKeepAlive |= (options & HttpSyntax.CONNECTION_KEEP_ALIVE) != 0;
        }
        else if (equalsIgnoreCase(head, start, colon, "expect"))
        {
            // RFC 9110 10.1.1: 100-continue is the only expectation defined; any other gets 417.
            expect = equalsIgnoreCase(head, valueStart, valueEnd, "100-continue") && expect != EXPECT_OTHER
                ? EXPECT_CONTINUE : EXPECT_OTHER;
        }
        return true;
    }

    private boolean fail(final int status, final String reason)
    {
        errorStatus = status;
        errorReason = reason;
        return false;
    }

    private int failure(final int status, final String reason)
    {
        fail(status, reason);
        return -1;
    }
}
