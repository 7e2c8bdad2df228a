package io.millrace.http;

import java.nio.ByteBuffer;

import static io.millrace.http.HttpSyntax.CR;
import static io.millrace.http.HttpSyntax.LF;
import static io.millrace.http.HttpSyntax.isFieldByte;

/**
 * An incremental HTTP/1.1 response parser (RFC 9112), the client side's mirror of
 * {@link HttpRequestParser}: one per upstream connection, {@link #reset(String)} before each
 * response with the method of the request it answers. Feed it whatever the socket delivered, split
 * anywhere; it consumes up to the end of one response and no further.
 *
 * <p>What {@link #feed} reports, in order, for one exchange:
 * <ol>
 *   <li>{@link #INTERIM_HEAD} for each 1xx interim response (100 Continue, 103 Early Hints...),
 *       whose status and fields can be read until the next {@code feed}; at most
 *       {@link #MAX_INTERIM_RESPONSES}. The parser then goes on to the next head.</li>
 *   <li>{@link #FINAL_HEAD} once, when the final response's head is complete and valid: the status,
 *       fields, framing and {@link #keepAlive()} are known, and a proxy can send its client the head
 *       before any of the body has come.</li>
 *   <li>{@link #BODY_PART} for each run of body bytes, which lie just before the buffer's position
 *       ({@link #partLength()} of them): nothing is stored here, the body's memory is the caller's.</li>
 *   <li>{@link #COMPLETE} when the response is whole; {@link #ERROR} instead when it cannot be
 *       framed ({@link #error()}), after which the connection must be closed.</li>
 * </ol>
 *
 * <p>Framing (RFC 9112 section 6.3): a response to HEAD, and a 204 or 304, has no body whatever its
 * fields say; a 101, and a 2xx to CONNECT, end the exchange at their head ({@link #upgraded()}: the
 * bytes after it are another protocol's, left in the buffer); otherwise {@code Transfer-Encoding:
 * chunked} (decoded with {@link ChunkedDecoder}, trailers validated and dropped), then
 * Content-Length, then, with neither, the body runs to the end of the connection: call
 * {@link #endOfInput()} when the upstream closes, and it completes the response.
 *
 * <p>As strict as the request side, because a response two parties frame differently desyncs a
 * proxy's connection pool: every line ends in CRLF (a bare CR or LF is refused), no obs-fold, no
 * whitespace before a colon, no empty line before the status line, one Content-Length of digits,
 * one Transfer-Encoding that is exactly {@code chunked}, never both, never Transfer-Encoding in
 * HTTP/1.0. {@code maxHeaderBytes} bounds each head (status line, fields, CRLFs); the trailer
 * section shares the final head's. Parsing allocates nothing; Strings are made when asked for.
 * Not thread-safe: one connection, one thread at a time.
 */
public final class HttpResponseParser
{
    /** {@link #feed} consumed all it was given and the response is not complete yet. */
    public static final int NEED_MORE = HttpRequestParser.NEED_MORE;
    /** {@link #feed} or {@link #endOfInput()}: the response is whole; bytes after it were left in the buffer. */
    public static final int COMPLETE = HttpRequestParser.COMPLETE;
    /** The response cannot be framed: see {@link #error()}, and close the connection. */
    public static final int ERROR = HttpRequestParser.ERROR;
    /** {@link #feed} consumed {@link #partLength()} bytes of body, just before the buffer's new position; take them before feeding again. */
    public static final int BODY_PART = HttpRequestParser.BODY_PART;
    /** {@link #feed} parsed a 1xx interim response's head (not 101); read it now, the next {@code feed} forgets it. */
    public static final int INTERIM_HEAD = 4;
    /** {@link #feed} parsed the final response's head; feed on for its body (or {@link #COMPLETE}). */
    public static final int FINAL_HEAD = 5;

    /** Default bound on one head, status line and CRLFs included. */
    public static final int DEFAULT_MAX_HEADER_BYTES = HttpRequestParser.DEFAULT_MAX_HEADER_BYTES;
    /** Default bound on a response body: none (a proxy streams what it relays). */
    public static final long DEFAULT_MAX_BODY_BYTES = Long.MAX_VALUE;
    /**
     * Interim responses allowed before the final one. RFC 9110 sets no number; a bound keeps an
     * upstream that sends 1xx heads forever from holding the exchange (and the proxy) without end.
     */
    public static final int MAX_INTERIM_RESPONSES = 16;

    private static final int IDLE = 0;
    private static final int STATUS_LINE = 1;
    private static final int FIELDS = 2;
    private static final int LENGTH = 3;
    private static final int CHUNKED = 4;
    private static final int UNTIL_CLOSE = 5;
    private static final int DONE = 6;
    private static final int FAILED = 7;

    /** {@link #framing}: no final head yet, or no body (HEAD, 204, 304, Content-Length: 0). */
    private static final int NO_BODY = 0;
    private static final int BY_LENGTH = 1;
    private static final int BY_CHUNKS = 2;
    private static final int BY_CLOSE = 3;
    private static final int TUNNEL = 4;

    private final int maxHeaderBytes;
    private final long maxBodyBytes;
    private final ResponseHead head;
    private final ChunkedDecoder chunks;

    private int state = IDLE;
    private boolean headRequest;
    private boolean connectRequest;
    private boolean interimPending;
    private int framing;
    private int interims;
    private long consumed;
    private int headConsumed;
    private boolean sawCr;
    private boolean keepAlive;
    private long bodyLeft;
    private long bodyReceived;
    private int partLength;
    private ResponseError error;
    private String errorReason;

    /** A parser with the default limits. */
    public HttpResponseParser()
    {
        this(DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_BODY_BYTES);
    }

    /**
     * @param maxHeaderBytes bound on each head (status line, fields, CRLFs) and, with the final
     *                       head, the trailer section; at least 64
     * @param maxBodyBytes   bound on the decoded body; at least 0 ({@link #DEFAULT_MAX_BODY_BYTES} for none)
     */
    public HttpResponseParser(final int maxHeaderBytes, final long maxBodyBytes)
    {
        if (maxHeaderBytes < 64 || maxBodyBytes < 0)
        {
            throw new IllegalArgumentException("maxHeaderBytes must be at least 64 and maxBodyBytes at least 0, got " +
                maxHeaderBytes + " and " + maxBodyBytes);
        }
        this.maxHeaderBytes = maxHeaderBytes;
        this.maxBodyBytes = maxBodyBytes;
        this.head = new ResponseHead(maxHeaderBytes);
        this.chunks = new ChunkedDecoder(maxHeaderBytes, "response body too large");
    }

    /**
     * Starts a new exchange, keeping the buffers: the next {@link #feed} reads the response to a
     * request with this method. Call it before each response, the first included.
     *
     * @param requestMethod the request's method, e.g. {@code "GET"}; {@code HEAD} means no body,
     *                      {@code CONNECT} means a 2xx opens a tunnel
     */
    public void reset(final String requestMethod)
    {
        if (requestMethod == null)
        {
            throw new IllegalArgumentException("reset needs the method of the request this response answers (HEAD has no body)");
        }
        headRequest = "HEAD".equals(requestMethod);
        connectRequest = "CONNECT".equals(requestMethod);
        state = STATUS_LINE;
        interimPending = false;
        framing = NO_BODY;
        interims = 0;
        consumed = 0;
        startHead();
        keepAlive = false;
        bodyLeft = 0;
        bodyReceived = 0;
        partLength = 0;
        error = null;
        errorReason = null;
    }

    private void startHead()
    {
        headConsumed = 0;
        sawCr = false;
        head.clear();
    }

    /**
     * Consumes bytes of the current response from {@code src}, advancing its position. After
     * {@link #COMPLETE} or {@link #ERROR} it consumes nothing and returns the same until
     * {@link #reset(String)}.
     *
     * @param src bytes read from the connection
     * @return {@link #NEED_MORE}, {@link #INTERIM_HEAD}, {@link #FINAL_HEAD}, {@link #BODY_PART},
     *         {@link #COMPLETE} or {@link #ERROR}
     * @throws IllegalStateException if {@link #reset(String)} was never called
     */
    public int feed(final ByteBuffer src)
    {
        checkStarted();
        if (interimPending)
        {
            // The interim head was readable until now.
            interimPending = false;
            startHead();
        }
        while (true)
        {
            switch (state)
            {
                case STATUS_LINE, FIELDS ->
                {
                    final int before = src.position();
                    final int result = feedHead(src);
                    consumed += src.position() - before;
                    return result;
                }
                case LENGTH, UNTIL_CLOSE ->
                {
                    if (!src.hasRemaining())
                    {
                        return NEED_MORE;
                    }
                    final long left = state == LENGTH ? bodyLeft : maxBodyBytes - bodyReceived;
                    if (left == 0)
                    {
                        return fail(ResponseError.BODY_TOO_LARGE, "response body too large");
                    }
                    final int n = (int)Math.min(src.remaining(), left);
                    src.position(src.position() + n);
                    return bodyPart(n);
                }
                case CHUNKED ->
                {
                    final int before = src.position();
                    final int result = chunks.feed(src);
                    consumed += src.position() - before;
                    if (result == BODY_PART)
                    {
                        partLength = chunks.partLength();
                        bodyReceived = chunks.received();
                        return BODY_PART;
                    }
                    if (result == ERROR)
                    {
                        return fail(chunks.bodyTooLarge() ? ResponseError.BODY_TOO_LARGE
                            : chunks.errorStatus() == 431 ? ResponseError.TRAILERS_TOO_LARGE
                            : ResponseError.MALFORMED_CHUNKED_BODY, chunks.errorReason());
                    }
                    if (result == NEED_MORE)
                    {
                        return NEED_MORE;
                    }
                    state = DONE;
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

    /**
     * Tells the parser that the connection has ended (a read returned -1). A body delimited by the
     * close is then complete; anything else that was under way is cut short.
     *
     * @return {@link #COMPLETE}, or {@link #ERROR} with {@link ResponseError#CLOSED_BEFORE_RESPONSE},
     *         {@link ResponseError#TRUNCATED_HEAD} or {@link ResponseError#TRUNCATED_BODY}; after that,
     *         {@link #feed} returns the same
     */
    public int endOfInput()
    {
        checkStarted();
        switch (state)
        {
            case STATUS_LINE, FIELDS ->
            {
                return consumed == 0
                    ? fail(ResponseError.CLOSED_BEFORE_RESPONSE, "connection closed before any byte of a response")
                    : fail(ResponseError.TRUNCATED_HEAD, "connection closed inside a response head");
            }
            case LENGTH, CHUNKED ->
            {
                return fail(ResponseError.TRUNCATED_BODY, "connection closed inside a response body");
            }
            case UNTIL_CLOSE, DONE ->
            {
                state = DONE;
                return COMPLETE;
            }
            default ->
            {
                return ERROR;
            }
        }
    }

    /** @return the status of the head last reported (interim or final); 0 before one */
    public int status()
    {
        return head.status();
    }

    /** @return the reason phrase as sent (ISO-8859-1, possibly empty); a client should not rely on it (RFC 9112 section 4) */
    public String reason()
    {
        return head.reason();
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
        final HeaderFields f = head.fields();
        final int i = f.find(head.bytes(), name);
        return i < 0 ? null : f.value(head.bytes(), i);
    }

    /**
     * A field's value without a String: points {@code view} at it in the head's bytes.
     *
     * @return {@code view}, or null if there is no such field
     */
    public CharSequence header(final String name, final AsciiView view)
    {
        final HeaderFields f = head.fields();
        final int i = f.find(head.bytes(), name);
        return i < 0 ? null : view.set(head.bytes(), f.valueStart(i), f.valueEnd(i) - f.valueStart(i));
    }

    /** @return field lines in the head last reported */
    public int headerCount()
    {
        return head.fields().count();
    }

    /** @return field {@code index}'s name as sent */
    public String headerName(final int index)
    {
        return head.fields().name(head.bytes(), index);
    }

    /** @return field {@code index}'s value, without surrounding whitespace */
    public String headerValue(final int index)
    {
        return head.fields().value(head.bytes(), index);
    }

    /** @return the Content-Length as sent, or -1 if absent; sent on a response to HEAD or a 304 it describes a body that does not follow */
    public long contentLength()
    {
        return head.contentLength();
    }

    /** @return once the final head is in: whether its body is chunked */
    public boolean chunked()
    {
        return framing == BY_CHUNKS;
    }

    /** @return once the final head is in: whether its body runs until the connection closes (neither length nor chunked) */
    public boolean closeDelimited()
    {
        return framing == BY_CLOSE;
    }

    /**
     * @return once the final head is in: whether a body follows it: a Content-Length above 0, chunked
     *         (perhaps with no chunk but the last) or close-delimited (perhaps empty)
     */
    public boolean hasBody()
    {
        return framing == BY_LENGTH || framing == BY_CHUNKS || framing == BY_CLOSE;
    }

    /**
     * @return whether the final response was a 101 Switching Protocols, or a 2xx to CONNECT: the
     *         exchange ended at its head, the connection now carries another protocol (whose first
     *         bytes may be left in the buffer) and is no longer HTTP
     */
    public boolean upgraded()
    {
        return framing == TUNNEL;
    }

    /**
     * @return once the final head is in: whether the connection may carry another request after
     *         this response. False for {@code Connection: close}, for HTTP/1.0 without
     *         {@code Connection: keep-alive}, for a close-delimited body, after an upgrade and after
     *         an error. Bytes left after a {@link #COMPLETE} response that kept the connection,
     *         before another request was sent, mean the upstream sent more than it framed: close.
     */
    public boolean keepAlive()
    {
        return keepAlive && state != FAILED;
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

    /** @return how many interim (1xx) responses this exchange has had */
    public int interimResponses()
    {
        return interims;
    }

    /** @return whether any byte of this exchange's response has been consumed (a retry on another connection is safe only before) */
    public boolean started()
    {
        return consumed > 0;
    }

    /** @return whether the final head is complete and valid: its body (if any) is being read, or the response is done */
    public boolean headComplete()
    {
        return state == LENGTH || state == CHUNKED || state == UNTIL_CLOSE || state == DONE;
    }

    /** @return whether a whole response has been parsed (the last body part, if any, was handed out) */
    public boolean isComplete()
    {
        return state == DONE;
    }

    /** @return after {@link #ERROR}: why; otherwise null */
    public ResponseError error()
    {
        return error;
    }

    /** @return after {@link #ERROR}: what was wrong, short, for a log line */
    public String errorReason()
    {
        return errorReason;
    }

    /** @return the head last reported, for the proxy's field filter */
    ResponseHead head()
    {
        return head;
    }

    private void checkStarted()
    {
        if (state == IDLE)
        {
            throw new IllegalStateException("call reset(requestMethod) before reading a response: the parser must know " +
                "the request's method (a response to HEAD has no body)");
        }
    }

    private int bodyPart(final int n)
    {
        consumed += n;
        bodyReceived += n;
        partLength = n;
        if (state == LENGTH && (bodyLeft -= n) == 0)
        {
            state = DONE;
        }
        return BODY_PART;
    }

    /**
     * Reads head bytes up to the end of the head, an error or the end of {@code src}.
     *
     * @return {@link #NEED_MORE}, {@link #INTERIM_HEAD}, {@link #FINAL_HEAD} or {@link #ERROR}
     */
    private int feedHead(final ByteBuffer src)
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
                    return fail(ResponseError.HEAD_TOO_LARGE, "response head larger than " + maxHeaderBytes + " bytes");
                }
                if (sawCr)
                {
                    if (b != LF)
                    {
                        return fail(lineError(), "bare CR in response head");
                    }
                    sawCr = false;
                    final int result = endOfLine();
                    if (result != NEED_MORE)
                    {
                        return result;
                    }
                }
                else if (b == CR)
                {
                    sawCr = true;
                }
                else if (b == LF)
                {
                    return fail(lineError(), "bare LF: lines must end in CRLF");
                }
                else if (isFieldByte(b))
                {
                    // Cannot overflow: bytes stored <= headConsumed <= maxHeaderBytes = capacity.
                    head.store(b);
                }
                else
                {
                    return fail(lineError(), state == STATUS_LINE ? "invalid byte in status line" : "invalid byte in header field");
                }
            }
            return NEED_MORE;
        }
        finally
        {
            src.position(i);
        }
    }

    private ResponseError lineError()
    {
        return state == STATUS_LINE ? ResponseError.MALFORMED_STATUS_LINE : ResponseError.MALFORMED_FIELD;
    }

    private int endOfLine()
    {
        if (state == STATUS_LINE)
        {
            if (head.lineEmpty())
            {
                return fail(ResponseError.MALFORMED_STATUS_LINE, "empty line before the status line");
            }
            if (!head.statusLine())
            {
                return fail(head.error(), head.errorReason());
            }
            state = FIELDS;
            return NEED_MORE;
        }
        if (!head.lineEmpty())
        {
            return head.field() ? NEED_MORE : fail(head.error(), head.errorReason());
        }
        return endOfHead();
    }

    private int endOfHead()
    {
        if (!head.framingValid())
        {
            return fail(head.error(), head.errorReason());
        }
        final int status = head.status();
        if (status < 200 && head.versionMinor() == 0)
        {
            // RFC 9110 section 15.2: HTTP/1.0 has no 1xx; a server must not send one to it.
            return fail(ResponseError.MALFORMED_STATUS_LINE, "1xx status in an HTTP/1.0 response");
        }
        if (status < 200 && status != 101)
        {
            if (++interims > MAX_INTERIM_RESPONSES)
            {
                return fail(ResponseError.TOO_MANY_INTERIM_RESPONSES, "more than " + MAX_INTERIM_RESPONSES + " interim responses");
            }
            state = STATUS_LINE;
            interimPending = true;
            return INTERIM_HEAD;
        }
        keepAlive = head.keepAliveByFields();
        if (status == 101 || connectRequest && status < 300)
        {
            // RFC 9112 section 6.3 item 2 and RFC 9110 section 15.2.2: the head is the last HTTP on this connection.
            framing = TUNNEL;
            keepAlive = false;
            state = DONE;
        }
        else if (headRequest || status == 204 || status == 304)
        {
            // Section 6.3 item 1: no body whatever Content-Length or Transfer-Encoding say.
            state = DONE;
        }
        else if (head.chunked())
        {
            chunks.reset(maxHeaderBytes - headConsumed, maxBodyBytes);
            framing = BY_CHUNKS;
            state = CHUNKED;
        }
        else if (head.contentLength() > maxBodyBytes)
        {
            return fail(ResponseError.BODY_TOO_LARGE, "response body too large");
        }
        else if (head.contentLength() >= 0)
        {
            bodyLeft = head.contentLength();
            framing = bodyLeft == 0 ? NO_BODY : BY_LENGTH;
            state = bodyLeft == 0 ? DONE : LENGTH;
        }
        else
        {
            // Section 6.3 item 8: no declared length; the body ends when the connection does.
            framing = BY_CLOSE;
            keepAlive = false;
            state = UNTIL_CLOSE;
        }
        return FINAL_HEAD;
    }

    private int fail(final ResponseError kind, final String why)
    {
        state = FAILED;
        error = kind;
        errorReason = why;
        keepAlive = false;
        interimPending = false;
        return ERROR;
    }
}
