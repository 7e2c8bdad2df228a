package io.millrace.http;

import java.nio.ByteBuffer;

import static io.millrace.http.HttpSyntax.CR;
import static io.millrace.http.HttpSyntax.LF;
import static io.millrace.http.HttpSyntax.isFieldByte;
import static io.millrace.http.HttpSyntax.isRequestLineByte;

/**
 * An incremental HTTP/1.1 request parser (RFC 9112), one per connection and reused for every
 * request on it. Feed it whatever the socket delivered, split anywhere; it consumes up to the end
 * of one request and leaves pipelined bytes after it in the buffer for the next, after
 * {@link #reset()}.
 *
 * <p>Strict on purpose, because a request two parsers frame differently is how requests get
 * smuggled past a proxy:
 * <ul>
 *   <li>every line ends in CRLF; a bare LF is refused (RFC 9112 section 2.2 permits accepting it,
 *       we do not) and so is a bare CR;</li>
 *   <li>empty lines before the request line are skipped (section 2.2), counting against the limit;</li>
 *   <li>no obs-fold, no whitespace before a field's colon, no control bytes other than HTAB;</li>
 *   <li>Content-Length is {@code 1*DIGIT} and appears once; Transfer-Encoding appears once, is
 *       exactly {@code chunked} (else 501), never with Content-Length and never in HTTP/1.0;</li>
 *   <li>HTTP/1.1 needs exactly one Host field.</li>
 * </ul>
 * The limit on the header section covers the request line, the field lines and their CRLFs; the
 * trailer section of a chunked body shares it. A request line or field too long is a 431.
 *
 * <p>Storage is bounded and reused: the head is kept in one array of {@code maxHeaderBytes}, field
 * positions in an int array, the body in an array grown up to {@code maxBodyBytes}. Nothing is
 * allocated per byte; the method, target and path strings are created once per request, a field's
 * value when it is asked for. Not thread-safe: one connection, one thread at a time.
 */
public final class HttpRequestParser
{
    /** {@link #feed} consumed all it was given and the request is not complete yet. */
    public static final int NEED_MORE = 0;
    /** {@link #feed} parsed one whole request; bytes after it were left in the buffer. */
    public static final int COMPLETE = 1;
    /** {@link #feed} found the request invalid: answer {@link #errorStatus()} and close. */
    public static final int ERROR = 2;

    /** Default bound on the header section, request line and CRLFs included. */
    public static final int DEFAULT_MAX_HEADER_BYTES = 8192;
    /** Default bound on a request body, after chunked decoding. */
    public static final int DEFAULT_MAX_BODY_BYTES = 1 << 20;

    private static final int REQUEST_LINE = 0;
    private static final int FIELDS = 1;
    private static final int BODY = 2;
    private static final int CHUNKED = 3;
    private static final int DONE = 4;
    private static final int FAILED = 5;

    private final int maxHeaderBytes;
    private final RequestHead head;
    private final BodyBuffer body;
    private final ChunkedDecoder chunks;

    private int state;
    private int headConsumed;
    private boolean sawCr;
    private boolean chunked;
    private boolean keepAlive;
    private int errorStatus;
    private String errorReason;

    /**
     * A parser with the default limits.
     */
    public HttpRequestParser()
    {
        this(DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_BODY_BYTES);
    }

    /**
     * @param maxHeaderBytes bound on the header section (request line, fields, CRLFs) and, together
     *                       with it, the trailer section; at least 64
     * @param maxBodyBytes   bound on the decoded body; at least 0
     */
    public HttpRequestParser(final int maxHeaderBytes, final int maxBodyBytes)
    {
        if (maxHeaderBytes < 64 || maxBodyBytes < 0)
        {
            throw new IllegalArgumentException("maxHeaderBytes must be at least 64 and maxBodyBytes at least 0, got " +
                maxHeaderBytes + " and " + maxBodyBytes);
        }
        this.maxHeaderBytes = maxHeaderBytes;
        this.head = new RequestHead(maxHeaderBytes);
        this.body = new BodyBuffer(maxBodyBytes);
        this.chunks = new ChunkedDecoder(maxHeaderBytes);
        reset();
    }

    /**
     * Forgets the last request (keeping the buffers) so that the next {@link #feed} starts a new one.
     */
    public void reset()
    {
        state = REQUEST_LINE;
        headConsumed = 0;
        sawCr = false;
        chunked = false;
        keepAlive = false;
        errorStatus = 0;
        errorReason = null;
        head.clear();
        body.clear();
    }

    /**
     * Consumes bytes of the current request from {@code src}, advancing its position. After
     * {@link #COMPLETE} or {@link #ERROR} it consumes nothing and returns the same until {@link #reset()}.
     *
     * @param src bytes read from the connection
     * @return {@link #NEED_MORE}, {@link #COMPLETE} or {@link #ERROR}
     */
    public int feed(final ByteBuffer src)
    {
        while (true)
        {
            switch (state)
            {
                case REQUEST_LINE, FIELDS ->
                {
                    if (!feedHead(src))
                    {
                        return NEED_MORE;
                    }
                }
                case BODY ->
                {
                    final int n = (int)Math.min(src.remaining(), head.contentLength() - body.length());
                    body.append(src, n);
                    if (body.length() < head.contentLength())
                    {
                        return NEED_MORE;
                    }
                    state = DONE;
                }
                case CHUNKED ->
                {
                    final int result = chunks.feed(src, body);
                    if (result == NEED_MORE)
                    {
                        return NEED_MORE;
                    }
                    if (result == ERROR)
                    {
                        fail(chunks.errorStatus(), chunks.errorReason());
                    }
                    else
                    {
                        state = DONE;
                    }
                }
                case DONE ->
                {
                    return COMPLETE;
                }
                default ->
                {
                    return ERROR;
                }
            }
        }
    }

    /** @return the request method, e.g. {@code GET} */
    public String method()
    {
        return head.method();
    }

    /** @return the request-target as sent: path and query, still percent-encoded */
    public String target()
    {
        return head.target();
    }

    /** @return the target's path: without the query, and for an absolute-form target without scheme and authority */
    public String path()
    {
        return head.path();
    }

    /** @return the target's query, without the {@code ?}; null if it has none */
    public String query()
    {
        return head.query();
    }

    /** @return 1 for HTTP/1.1, 0 for HTTP/1.0 */
    public int versionMinor()
    {
        return head.versionMinor();
    }

    /**
     * @param name a field name, any case
     * @return the first field of that name, without surrounding whitespace; null if absent
     */
    public String header(final String name)
    {
        return head.header(name);
    }

    /** @return field lines in the request */
    public int headerCount()
    {
        return head.headerCount();
    }

    /**
     * @param index 0 to {@link #headerCount()} - 1
     * @return that field's name as sent
     */
    public String headerName(final int index)
    {
        return head.headerName(index);
    }

    /**
     * @param index 0 to {@link #headerCount()} - 1
     * @return that field's value, without surrounding whitespace
     */
    public String headerValue(final int index)
    {
        return head.headerValue(index);
    }

    /**
     * @return whether the connection may carry another request: for HTTP/1.1 unless {@code Connection:
     * close}, for HTTP/1.0 only with {@code Connection: keep-alive}; false after an error
     */
    public boolean keepAlive()
    {
        return keepAlive;
    }

    /** @return whether the body came chunked */
    public boolean chunked()
    {
        return chunked;
    }

    /** @return the body's bytes, valid from 0 to {@link #bodyLength()}; the array is reused after {@link #reset()} */
    public byte[] body()
    {
        return body.bytes();
    }

    /** @return the body's length in bytes, after chunked decoding */
    public int bodyLength()
    {
        return body.length();
    }

    /** @return after {@link #ERROR}: the status to answer with (400, 413, 431, 501 or 505); otherwise 0 */
    public int errorStatus()
    {
        return errorStatus;
    }

    /** @return after {@link #ERROR}: what was wrong, short, for a log line or the response body */
    public String errorReason()
    {
        return errorReason;
    }

    /**
     * Reads head bytes up to the end of the head, an error or the end of {@code src}.
     *
     * @return whether the state moved past the head (to a body, done or failed)
     */
    private boolean feedHead(final ByteBuffer src)
    {
        final int limit = src.limit();
        int i = src.position();
        try
        {
            while (i < limit)
            {
                final int b = src.get(i++) & 0xFF;
                if (++headConsumed > maxHeaderBytes)
                {
                    fail(431, "request header section too large");
                    return true;
                }
                if (sawCr)
                {
                    if (b != LF)
                    {
                        fail(400, "bare CR in header section");
                        return true;
                    }
                    sawCr = false;
                    endOfLine();
                    if (state != REQUEST_LINE && state != FIELDS)
                    {
                        return true;
                    }
                }
                else if (b == CR)
                {
                    sawCr = true;
                }
                else if (b == LF)
                {
                    fail(400, "bare LF: lines must end in CRLF");
                    return true;
                }
                else if (state == REQUEST_LINE ? isRequestLineByte(b) : isFieldByte(b))
                {
                    // Cannot overflow: bytes stored <= headConsumed <= maxHeaderBytes = capacity.
                    head.store(b);
                }
                else
                {
                    fail(400, state == REQUEST_LINE ? "invalid byte in request line" : "invalid byte in header field");
                    return true;
                }
            }
            return false;
        }
        finally
        {
            src.position(i);
        }
    }

    private void endOfLine()
    {
        if (state == REQUEST_LINE)
        {
            // Empty lines before the request line are skipped (RFC 9112 section 2.2).
            if (!head.lineEmpty())
            {
                if (head.requestLine())
                {
                    state = FIELDS;
                }
                else
                {
                    fail(head.errorStatus(), head.errorReason());
                }
            }
        }
        else if (head.lineEmpty())
        {
            endOfHead();
        }
        else if (!head.field())
        {
            fail(head.errorStatus(), head.errorReason());
        }
    }

    private void endOfHead()
    {
        final int framing = head.framing();
        if (framing < 0)
        {
            fail(head.errorStatus(), head.errorReason());
        }
        else if (framing == RequestHead.CHUNKED)
        {
            chunked = true;
            chunks.reset(maxHeaderBytes - headConsumed);
            state = CHUNKED;
        }
        else if (head.contentLength() > body.max())
        {
            fail(413, "request body too large");
        }
        else if (framing == RequestHead.LENGTH)
        {
            body.reserve(head.contentLength());
            state = BODY;
        }
        else
        {
            state = DONE;
        }
        if (state != FAILED)
        {
            keepAlive = head.keepAlive();
        }
    }

    private void fail(final int status, final String reason)
    {
        state = FAILED;
        errorStatus = status;
        errorReason = reason;
        keepAlive = false;
    }
}
