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
 *       exactly {@code chunked} (a list such as {@code chunked, chunked} is a 400, another coding a 501), never with Content-Length and never in HTTP/1.0;</li>
 *   <li>HTTP/1.1 needs exactly one Host field.</li>
 * </ul>
 * The limit on the header section covers the request line, the field lines and their CRLFs; the
 * trailer section of a chunked body shares it. A request line too long is a 414, fields too long a 431.
 *
 * <p>Storage is bounded and reused: the head is kept in one array that starts at 1 KiB and grows
 * up to {@code maxHeaderBytes} only for large heads, field positions in an int array. The body is
 * not stored at all: {@link #BODY_PART} hands each run of body bytes back to the caller, who keeps
 * them in pooled buffers under its own budget, so a declared Content-Length or chunk size reserves
 * nothing. Parsing a request allocates nothing: the method of the known ones is a constant (any
 * other is a 501), and the target, path, query and field values become Strings only when asked
 * for. Not thread-safe: one connection, one thread at a time.
 */
public final class HttpRequestParser
{
    /** {@link #feed} consumed all it was given and the request is not complete yet. */
    public static final int NEED_MORE = 0;
    /** {@link #feed} parsed one whole request; bytes after it were left in the buffer. */
    public static final int COMPLETE = 1;
    /** {@link #feed} found the request invalid: answer {@link #errorStatus()} and close. */
    public static final int ERROR = 2;
    /**
     * {@link #feed} consumed {@link #partLength()} bytes of body, which lie just before the buffer's
     * new position; take them (slice or copy) before feeding again. Bodies are never stored here, so
     * their memory is the caller's to bound.
     */
    public static final int BODY_PART = 3;

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
    private final long maxBodyBytes;
    private final RequestHead head;
    private final ChunkedDecoder chunks;

    private int state;
    private int headConsumed;
    private boolean sawCr;
    private boolean chunked;
    private boolean keepAlive;
    private long bodyLeft;
    private long bodyReceived;
    private int partLength;
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
        this.maxBodyBytes = maxBodyBytes;
        this.head = new RequestHead(maxHeaderBytes);
        this.chunks = new ChunkedDecoder(maxHeaderBytes, "request body too large");
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
        bodyLeft = 0;
        bodyReceived = 0;
        partLength = 0;
        head.clear();
    }

    /**
     * Consumes bytes of the current request from {@code src}, advancing its position. After
     * {@link #COMPLETE} or {@link #ERROR} it consumes nothing and returns the same until {@link #reset()}.
     *
     * @param src bytes read from the connection
     * @return {@link #NEED_MORE}, {@link #BODY_PART}, {@link #COMPLETE} or {@link #ERROR}
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
                    if (!src.hasRemaining())
                    {
                        return NEED_MORE;
                    }
                    final int n = (int)Math.min(src.remaining(), bodyLeft);
                    src.position(src.position() + n);
                    bodyLeft -= n;
                    bodyReceived += n;
                    partLength = n;
                    if (bodyLeft == 0)
                    {
                        state = DONE;
                    }
                    return BODY_PART;
                }
                case CHUNKED ->
                {
                    final int result = chunks.feed(src);
                    if (result == NEED_MORE)
                    {
                        return NEED_MORE;
                    }
                    if (result == BODY_PART)
                    {
                        partLength = chunks.partLength();
                        bodyReceived = chunks.received();
                        return BODY_PART;
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

    /** @return after {@link #BODY_PART}: how many bytes of body lie just before the buffer's position */
    public int partLength()
    {
        return partLength;
    }

    /** @return body bytes received so far, after chunked decoding */
    public long bodyReceived()
    {
        return bodyReceived;
    }

    /** @return once the head is complete: whether a body follows it (a Content-Length above 0, or chunked) */
    public boolean hasBody()
    {
        return state == BODY || state == CHUNKED || bodyReceived > 0;
    }

    /** @return whether a request has begun: more than the empty lines that may precede one (RFC 9112 section 2.2) */
    boolean started()
    {
        return state != REQUEST_LINE || !head.lineEmpty();
    }

    /** @return whether the head is complete and valid: its body (if any) is being read, or the request is done */
    public boolean headComplete()
    {
        return state == BODY || state == CHUNKED || state == DONE;
    }

    /** @return whether a whole request has been parsed (the last body part, if any, was handed out) */
    public boolean isComplete()
    {
        return state == DONE;
    }

    /** @return the Content-Length, or -1 if absent (chunked or no body) */
    public long contentLength()
    {
        return head.contentLength();
    }

    /** @return whether the request carries {@code Expect: 100-continue} (and no other expectation) */
    public boolean expectsContinue()
    {
        return head.expect() == RequestHead.EXPECT_CONTINUE;
    }

    /**
     * The path's bytes without a String: {@code pathArray()[pathStart() .. pathEnd())}, still
     * percent-encoded. Valid until {@link #reset()}.
     *
     * @return the array holding the path
     */
    public byte[] pathArray()
    {
        return head.pathArray();
    }

    /** @return where the path starts in {@link #pathArray()} */
    public int pathStart()
    {
        return head.pathStart();
    }

    /** @return where the path ends (exclusive) in {@link #pathArray()} */
    public int pathEnd()
    {
        return head.pathEnd();
    }

    /**
     * A field's value without a String: points {@code view} at it in the head's bytes.
     *
     * @param name a field name, any case
     * @param view the view to set
     * @return {@code view}, or null if there is no such field
     */
    public CharSequence header(final String name, final AsciiView view)
    {
        final RequestHead h = head;
        final int i = h.fieldIndex(name);
        return i < 0 ? null : view.set(h.bytes(), h.fieldValueStart(i), h.fieldValueEnd(i) - h.fieldValueStart(i));
    }

    /** @return the head's bytes (for zero-copy field access); valid until {@link #reset()} */
    byte[] headBytes()
    {
        return head.bytes();
    }

    /** @return the head's fields (their offsets index {@link #headBytes()}) */
    RequestHead head()
    {
        return head;
    }

    /** @return after {@link #ERROR}: the status to answer with (400, 413, 414, 417, 431, 501 or 505); otherwise 0 */
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
                    if (state == REQUEST_LINE && !head.lineEmpty())
                    {
                        fail(414, "request target too long");
                    }
                    else
                    {
                        fail(431, "request header section too large");
                    }
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
        else if (head.expect() == RequestHead.EXPECT_OTHER)
        {
            fail(417, "only Expect: 100-continue is supported");
        }
        else if (framing == RequestHead.CHUNKED)
        {
            chunked = true;
            chunks.reset(maxHeaderBytes - headConsumed, maxBodyBytes);
            state = CHUNKED;
        }
        else if (head.contentLength() > maxBodyBytes)
        {
            fail(413, "request body too large");
        }
        else if (framing == RequestHead.LENGTH)
        {
            // Nothing is reserved for the declared length: body parts are handed out as they arrive.
            bodyLeft = head.contentLength();
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
