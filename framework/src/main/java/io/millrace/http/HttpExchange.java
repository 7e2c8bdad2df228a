package io.millrace.http;

import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.net.Connection;
import io.millrace.stage.CancelToken;
import io.millrace.stage.Outcome;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP request and its response: the object that travels through an {@link HttpServer}'s
 * pipeline. A handler stage reads the request and answers with one of the {@code respond} methods,
 * returning what they return:
 *
 * <pre>{@code
 * (x, ctx) -> x.respond(200, HeaderBlock.TEXT_PLAIN, HELLO)
 * }</pre>
 *
 * <p>One exchange serves all the requests of a connection, one at a time (pipelined requests wait,
 * unparsed, until the previous response is queued), so the server allocates nothing per request.
 * Everything a request carries is valid from the handler's call until its response is queued; a
 * handler that keeps any of it longer copies it ({@link #bodyBytes()}) or retains it
 * ({@link BufferChain#retain()}).
 *
 * <p>Threading: created and owned by the connection's worker. While a request is in the pipeline the
 * exchange goes wherever its stages run (a partition owner's worker, a blocking stage's thread) and
 * belongs to the thread running the current stage; the runtime's hand-offs publish its fields. The
 * response is always sent from the connection's worker.
 */
public final class HttpExchange
{
    private static final byte[] NO_BYTES = new byte[0];
    /** Extra header lines a handler may add per response, CRLFs included. */
    private static final int MAX_EXTRA_HEADER_BYTES = 2048;

    // ------------------------------------------------------------------ connection state (owner thread)

    final Connection connection;
    final Thread ownerThread;
    final HttpRequestParser parser;
    final HttpServerCore server;
    /** Reused by every request of the connection; reset after each completes. */
    final CancelToken cancelToken = new CancelToken();

    /** From submit until the request completes. Owned by the connection's worker. */
    boolean inPipeline;
    /** While the parser holds part of a request (a request deadline is armed). */
    boolean partial;
    /** Set once a response that closes the connection is queued: nothing after it is parsed. */
    boolean closing;
    /** Whether a response went out for the request now in the pipeline (set by the writer, cleared at submit). */
    boolean responded;
    /** Set off the connection's worker for a request that completed without a response: route answers its 500. */
    boolean orphaned;
    /** The current request's streamed body was cut short and its listener told, or its listener threw. */
    boolean streamEnded;
    /** Whether the current request's head is complete and routed (or answered). */
    boolean headDone;
    /** The client went away while its request was in the pipeline: no response is sent. */
    boolean clientGone;
    /** The route the current request's head matched, or null (an error response is prepared). */
    Route route;
    /** The request's body so far (pooled chunks, shared with the connection's input), or null. */
    BufferChain requestBody;
    /** Body bytes charged to the server's body budget for this request. */
    long bodyCharged;
    /** Where the matched route's pattern ended in the path (the start of the path's remainder). */
    int paramStart;
    /** Hash of the path's remainder after the route's prefix, for partitioned placements. */
    int routeKeyHash;

    // ------------------------------------------------------------------ the response

    int status;
    HeaderBlock headers = HeaderBlock.EMPTY;
    byte[] bodyArray;
    int bodyIndex;
    int bodyLength;
    BufferChain bodyChain;
    /** A file body sent with sendfile; the connection closes it once sent, unless {@link #fileOwner} owns it. */
    java.nio.channels.FileChannel fileChannel;
    /** Who owns {@link #fileChannel} (a cached file), told once its region is sent or dropped; or null. */
    io.millrace.memory.FileRegionOwner fileOwner;
    /** The cached file's bytes when the cache holds it in memory (sent with the head in one writev); or null. */
    ByteBuffer fileMemory;
    long filePosition;
    long fileCount;
    boolean closeAfter;
    /** For a bodiless answer that still declares a length (HEAD of a file, 416's none): the Content-Length, or -1. */
    long headOnlyLength = -1;
    /**
     * Set by a proxy that wrote this response to the connection itself, part by part, while the
     * request was parked: respond then only does the bookkeeping. Connection's worker only.
     */
    boolean streamed;
    /** Body bytes a streamed response sent, for the access log. */
    long streamedBytes;
    /** The proxy call streaming into this connection, told when the connection drains; or null. */
    ProxyCall streamer;
    /** The proxy call carrying this request while it is parked, or null. */
    ProxyCall proxyCall;
    /**
     * The request entered the pipeline at its head and its body streams from the connection's input
     * (a proxy route's upload above the request-buffering limit): the proxy call reads the rest.
     */
    boolean uploading;
    /** Extra field lines; position = bytes written. Made on first use, reused after. */
    ByteBuffer extraHeaders;
    /** The handler's own per-connection object ({@link #attach}). */
    private Object attachment;

    HttpExchange(final Connection connection, final HttpServerCore server)
    {
        this.connection = connection;
        this.ownerThread = Thread.currentThread();
        this.server = server;
        this.parser = new HttpRequestParser(server.maxHeaderBytes(), server.maxBodyBytes());
    }

    // ------------------------------------------------------------------ the request

    /** @return the method; one of the shared constants {@code "GET"}, {@code "HEAD"}, {@code "POST"}... (compare with equals) */
    public String method()
    {
        return parser.method();
    }

    /** @return whether this is a HEAD request (routed like GET; the response's body is not sent) */
    public boolean isHead()
    {
        return "HEAD".equals(parser.method());
    }

    /** @return the path, still percent-encoded; a String made on the first call (allocates once per request) */
    public String path()
    {
        return parser.path();
    }

    /** @return the query without the {@code ?}, or null; made on the first call */
    public String query()
    {
        return parser.query();
    }

    /**
     * The part of the path after the matched route's prefix: {@code "k1"} for {@code /kv/k1} routed
     * by {@code "/kv/*"}; empty for an exact route.
     *
     * @return the remainder, still percent-encoded (allocates a String)
     */
    public String pathRemainder()
    {
        final int end = parser.pathEnd();
        return new String(parser.pathArray(), paramStart, end - paramStart, StandardCharsets.ISO_8859_1);
    }

    /** @return the remainder's length in bytes (see {@link #pathRemainder()}); no allocation */
    public int pathRemainderLength()
    {
        return parser.pathEnd() - paramStart;
    }

    /**
     * @param index 0 to {@link #pathRemainderLength()} - 1
     * @return that byte of the remainder; no allocation
     */
    public byte pathRemainderByte(final int index)
    {
        return parser.pathArray()[paramStart + index];
    }

    /**
     * Copies the remainder's bytes into {@code dst} without allocating.
     *
     * @param dst where to copy; at least {@link #pathRemainderLength()} long
     * @return bytes copied
     */
    public int pathRemainder(final byte[] dst)
    {
        final int n = pathRemainderLength();
        System.arraycopy(parser.pathArray(), paramStart, dst, 0, n);
        return n;
    }

    /** @return a hash of the path's remainder, computed once when routed: a ready key for {@code Placement.partitioned} */
    public int routeKeyHash()
    {
        return routeKeyHash;
    }

    /**
     * @param name a field name, any case
     * @return the first field of that name without surrounding whitespace, or null (allocates the value)
     */
    public String header(final String name)
    {
        return parser.header(name);
    }

    /**
     * A field's value without allocating: {@code view} is pointed at the bytes of the request head.
     *
     * @param name a field name, any case
     * @param view a view the caller reuses (one per thread, say)
     * @return {@code view}, valid until the response is queued; or null if the field is absent
     */
    public CharSequence header(final String name, final AsciiView view)
    {
        return parser.header(name, view);
    }

    /** @return 1 for HTTP/1.1, 0 for HTTP/1.0 */
    public int versionMinor()
    {
        return parser.versionMinor();
    }

    /** @return whether the connection may carry another request after this one */
    public boolean keepAlive()
    {
        return parser.keepAlive() && !closeAfter;
    }

    /**
     * The request's body as pooled buffers, shared with the connection's input without a copy.
     * Owned by the exchange and released once the response is queued; {@link BufferChain#retain()}
     * it to keep it longer (and release it yourself).
     *
     * @return the body, or null if the request has none (or its route streams it)
     */
    public BufferChain body()
    {
        return requestBody;
    }

    /** @return the body's length in bytes; 0 if none */
    public long bodyLength()
    {
        return requestBody == null ? 0 : requestBody.readableBytes();
    }

    /**
     * @return a copy of the body (allocates; the empty array for none)
     */
    public byte[] bodyBytes()
    {
        if (requestBody == null)
        {
            return NO_BYTES;
        }
        final byte[] copy = new byte[(int)requestBody.readableBytes()];
        int at = 0;
        for (BufferDescriptor d = requestBody.first(); d != null; d = d.next())
        {
            final ByteBuffer view = d.readableBuffer();
            final int n = view.remaining();
            view.get(view.position(), copy, at, n);
            at += n;
        }
        return copy;
    }

    /**
     * Keeps an object of the handler's own with the connection: every later request on the connection
     * sees it through {@link #attachment()}. One exchange serves all of a connection's requests, one
     * at a time, so per-connection state (an append listener, a scratch buffer) can be made once
     * instead of per request. Like the rest of the exchange it belongs to the thread running the
     * request's current stage (the runtime's hand-offs publish it); it goes with the connection.
     *
     * @param value the object, or null to drop it
     */
    public void attach(final Object value)
    {
        attachment = value;
    }

    /** @return what {@link #attach} kept for this connection, or null */
    public Object attachment()
    {
        return attachment;
    }

    /** @return the connection; use it only on the connection's worker */
    public Connection connection()
    {
        return connection;
    }

    /** @return the index of the connection's worker: a ready key for {@code Placement.onWorker} */
    public int workerIndex()
    {
        return connection.workerIndex();
    }

    // ------------------------------------------------------------------ the response

    /**
     * Answers with a body from an array, copied into pooled buffers when sent.
     *
     * @param statusCode 200 to 999 (1xx are the server's)
     * @param fields     fields encoded ahead of time, such as the Content-Type
     * @param body       the body; not copied until the response is sent, so do not change it
     * @return the outcome to return from the handler (continue at the server's respond stage)
     */
    public Outcome respond(final int statusCode, final HeaderBlock fields, final byte[] body)
    {
        return respond(statusCode, fields, body, 0, body == null ? 0 : body.length);
    }

    /**
     * Answers with part of an array as the body.
     *
     * @param statusCode 200 to 999
     * @param fields     fields encoded ahead of time
     * @param body       the bytes
     * @param index      where the body starts in {@code body}
     * @param length     the body's length
     * @return the outcome to return from the handler
     */
    public Outcome respond(final int statusCode, final HeaderBlock fields, final byte[] body, final int index, final int length)
    {
        setStatus(statusCode, fields);
        if (body != null)
        {
            java.util.Objects.checkFromIndexSize(index, length, body.length);
        }
        bodyArray = body;
        bodyIndex = index;
        bodyLength = body == null ? 0 : length;
        return server.respondOutcome();
    }

    /**
     * Answers with a body of pooled buffers, which the server takes over (and releases once sent).
     *
     * @param statusCode 200 to 999
     * @param fields     fields encoded ahead of time
     * @param body       the body; ownership passes to the server
     * @return the outcome to return from the handler
     */
    public Outcome respond(final int statusCode, final HeaderBlock fields, final BufferChain body)
    {
        setStatus(statusCode, fields);
        releaseResponseChain();
        bodyChain = body;
        return server.respondOutcome();
    }

    /**
     * Answers with {@code count} bytes of an open file, sent with sendfile: the bytes never enter
     * the JVM. The server takes the channel over and closes it once sent (or if the connection closes).
     *
     * @param statusCode 200 to 999
     * @param fields     fields encoded ahead of time
     * @param channel    an open file
     * @param position   where the body starts in the file
     * @param count      the body's length
     * @return the outcome to return from the handler
     */
    public Outcome respondFile(final int statusCode, final HeaderBlock fields, final java.nio.channels.FileChannel channel,
        final long position, final long count)
    {
        setStatus(statusCode, fields);
        fileChannel = channel;
        filePosition = position;
        fileCount = count;
        return server.respondOutcome();
    }

    /**
     * Answers with no body ({@code Content-Length: 0}, or none for 204 and 304).
     *
     * @param statusCode 200 to 999
     * @param fields     fields encoded ahead of time
     * @return the outcome to return from the handler
     */
    public Outcome respond(final int statusCode, final HeaderBlock fields)
    {
        return respond(statusCode, fields, (byte[])null);
    }

    /**
     * Answers with a plain-text body (allocates: for errors and rare paths, not hot ones).
     *
     * @param statusCode 200 to 999
     * @param text       the body, sent as UTF-8
     * @return the outcome to return from the handler
     */
    public Outcome respondText(final int statusCode, final String text)
    {
        return respond(statusCode, HeaderBlock.TEXT_PLAIN, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Adds a field line to this response, checked now (a value with CR or LF would let whoever
     * controls it add fields). For fields whose value is the same on every response, a
     * {@link HeaderBlock} costs nothing per request.
     *
     * @param name  a token; not one of the fields the server writes itself
     * @param value single-line visible US-ASCII
     * @return this exchange
     * @throws IllegalArgumentException if the name or value is invalid
     * @throws IllegalStateException    if the extra fields would exceed 2 KiB
     */
    public HttpExchange header(final String name, final CharSequence value)
    {
        HeaderBlock.checkName(name);
        if (extraHeaders == null)
        {
            extraHeaders = ByteBuffer.allocate(MAX_EXTRA_HEADER_BYTES);
        }
        final int need = name.length() + 2 + value.length() + 2;
        if (need > extraHeaders.remaining())
        {
            throw new IllegalStateException("extra response fields exceed " + MAX_EXTRA_HEADER_BYTES +
                " bytes; put fixed fields in a HeaderBlock");
        }
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            if (c >= 0x7F || c < ' ' && c != '\t')
            {
                throw new IllegalArgumentException("the value of " + name + " must be single-line visible US-ASCII, got '" +
                    value + "'");
            }
        }
        for (int i = 0; i < name.length(); i++)
        {
            extraHeaders.put((byte)name.charAt(i));
        }
        extraHeaders.put((byte)':').put((byte)' ');
        for (int i = 0; i < value.length(); i++)
        {
            extraHeaders.put((byte)value.charAt(i));
        }
        extraHeaders.put((byte)'\r').put((byte)'\n');
        return this;
    }

    /**
     * Closes the connection once this response is sent (adds {@code Connection: close}).
     *
     * @return this exchange
     */
    public HttpExchange closeAfterResponse()
    {
        closeAfter = true;
        return this;
    }

    /** @return the status set so far, 0 if none */
    public int status()
    {
        return status;
    }

    // ------------------------------------------------------------------ the server's side

    private void setStatus(final int statusCode, final HeaderBlock fields)
    {
        if (statusCode < 200 || statusCode > 999)
        {
            throw new IllegalArgumentException("a response status is 200 to 999 (1xx are the server's), got " + statusCode);
        }
        status = statusCode;
        headers = fields == null ? HeaderBlock.EMPTY : fields;
    }

    /**
     * A file region from the open-file cache as the body, with the header lines the cache built.
     * The cache's hold passes to the connection when sent, or back to the cache by {@link #clearResponse()}.
     */
    Outcome respondCached(final StaticFileResult result, final boolean withBody)
    {
        status = result.status();
        headers = HeaderBlock.EMPTY; // the result's lines carry Content-Type, Last-Modified, Accept-Ranges...
        if (extraHeaders == null)
        {
            extraHeaders = ByteBuffer.allocate(MAX_EXTRA_HEADER_BYTES);
        }
        result.writeHeaders(extraHeaders);
        if (withBody && result.hasBody())
        {
            fileChannel = result.channel();
            filePosition = result.bodyOffset();
            fileCount = result.bodyLength();
            fileMemory = result.memory();
            fileOwner = result.takeRegionOwner();
        }
        else
        {
            // HEAD, 304, 416, an empty file: no region; Content-Length still tells the size.
            headOnlyLength = result.contentLength();
        }
        result.clear();
        return server.respondOutcome();
    }

    /** An error status the server itself answers with (parse errors, 404, 503...); any 100-999. */
    void serverResponse(final int statusCode, final byte[] body)
    {
        status = statusCode;
        headers = HeaderBlock.TEXT_PLAIN;
        bodyArray = body;
        bodyIndex = 0;
        bodyLength = body.length;
    }

    /** Drops whatever response was set (the buffers a handler handed over included). */
    void clearResponse()
    {
        status = 0;
        streamed = false;
        streamedBytes = 0;
        streamer = null;
        headers = HeaderBlock.EMPTY;
        bodyArray = null;
        bodyIndex = 0;
        bodyLength = 0;
        releaseResponseChain();
        fileMemory = null;
        if (fileOwner != null)
        {
            final io.millrace.memory.FileRegionOwner owner = fileOwner;
            fileOwner = null;
            fileChannel = null;
            owner.regionSent(); // never sent: give the cached file back
        }
        if (fileChannel != null)
        {
            try
            {
                fileChannel.close();
            }
            catch (final java.io.IOException ignored)
            {
                // Nothing was sent from it; closing is best effort.
            }
            fileChannel = null;
        }
        closeAfter = false;
        headOnlyLength = -1;
        if (extraHeaders != null)
        {
            extraHeaders.clear();
        }
    }

    private void releaseResponseChain()
    {
        final BufferChain chain = bodyChain;
        bodyChain = null;
        if (chain != null)
        {
            chain.release();
        }
    }

    /** Forgets the request (after its response is queued) so that the connection's next one can be parsed. */
    void nextRequest()
    {
        releaseRequestBody();
        parser.reset();
        route = null;
        headDone = false;
        uploading = false;
        streamEnded = false;
        paramStart = 0;
        routeKeyHash = 0;
    }

    /**
     * Tells the route's body listener, if the request streams its body and the body is not complete,
     * that it never will be. On the connection's worker; at most once per request.
     */
    void abortStream()
    {
        final Route r = route;
        if (streamEnded || !headDone || r == null || r.bodyListener == null || parser.isComplete())
        {
            return;
        }
        streamEnded = true;
        try
        {
            r.bodyListener.onBodyAborted(this);
        }
        catch (final Throwable ex)
        {
            io.millrace.worker.Fatal.rethrowIfFatal(ex);
            server.handlerErrors.incrementAndGet();
            server.errors.warn("body listener of route " + r.patternText() + " failed in onBodyAborted", "ignored", ex);
        }
    }

    /** Releases the request's body and its share of the body budget. Any thread. */
    void releaseRequestBody()
    {
        final BufferChain chain = requestBody;
        requestBody = null;
        if (chain != null)
        {
            chain.release();
        }
        if (bodyCharged > 0)
        {
            server.bodyBudget().release(bodyCharged);
            bodyCharged = 0;
        }
    }

    @Override
    public String toString()
    {
        return "HttpExchange[" + connection + ", " + parser.method() + " " + parser.path() + ", status " + status + "]";
    }
}
