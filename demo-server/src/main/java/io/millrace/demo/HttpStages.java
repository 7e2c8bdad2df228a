package io.millrace.demo;

import io.millrace.PipelineBuilder;
import io.millrace.http.HttpRequestParser;
import io.millrace.http.ResponseEncoder;
import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.net.Connection;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;
import io.millrace.stage.StageRef;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The demo server's stage handlers: parse, route, respond, and the endpoint handlers in
 * {@link Endpoints}. Each method is one stage; see {@link HttpService} for the placement of each.
 */
final class HttpStages
{
    private static final String TEXT = "text/plain; charset=utf-8";

    private final HttpService service;
    private final Endpoints endpoints;
    private final StageRef<HttpExchange> route;
    private final StageRef<HttpExchange> hello;
    private final StageRef<HttpExchange> files;
    private final StageRef<HttpExchange> kv;
    private final StageRef<HttpExchange> slow;
    private final StageRef<HttpExchange> metrics;
    private final StageRef<HttpExchange> stats;
    private final StageRef<HttpExchange> respond;
    private final StageRef<HttpExchange> parse;
    /** One scratch buffer per worker for encoding response heads; index = worker index. */
    private final ByteBuffer[] heads;

    HttpStages(final HttpService service, final KvStore store, final Path root, final StageRef<HttpExchange> parse,
        final StageRef<HttpExchange> route,
        final StageRef<HttpExchange> hello, final StageRef<HttpExchange> files, final StageRef<HttpExchange> kv,
        final StageRef<HttpExchange> slow, final StageRef<HttpExchange> metrics, final StageRef<HttpExchange> stats,
        final StageRef<HttpExchange> respond)
    {
        this.service = service;
        this.endpoints = new Endpoints(service, store, root);
        this.parse = parse;
        this.route = route;
        this.hello = hello;
        this.files = files;
        this.kv = kv;
        this.slow = slow;
        this.metrics = metrics;
        this.stats = stats;
        this.respond = respond;
        this.heads = new ByteBuffer[service.config().workers()];
        for (int i = 0; i < heads.length; i++)
        {
            heads[i] = ByteBuffer.allocate(ResponseEncoder.MAX_HEAD_BYTES);
        }
    }

    void handleAll(final PipelineBuilder<HttpExchange> b)
    {
        final Outcome toRespond = Outcome.next(respond);
        b.handle(parse, (x, ctx) -> parse(x))
            .handle(route, (x, ctx) -> route(x))
            .handle(hello, (x, ctx) -> endpoints.hello(x, toRespond))
            .handle(files, (x, ctx) -> endpoints.files(x, toRespond))
            .handle(kv, (x, ctx) -> endpoints.kv(x, ctx, toRespond))
            .handle(slow, (x, ctx) -> endpoints.slow(x, toRespond))
            .handle(metrics, (x, ctx) -> endpoints.metrics(x, toRespond))
            .handle(stats, (x, ctx) -> endpoints.stats(x, toRespond))
            .handle(respond, this::respond)
            .entry(parse);
    }

    // ------------------------------------------------------------------ parse

    /**
     * Feeds the connection's unread bytes to its parser, consuming exactly what it used. Runs on
     * the connection's worker. A whole request goes on to route; an error status straight to
     * respond; a partial one completes with no response and waits for more bytes.
     */
    private Outcome parse(final HttpExchange x)
    {
        x.clear();
        final Connection c = x.connection;
        final BufferChain in = c.inbound();
        final HttpRequestParser parser = x.parser;
        if (x.parsedWhole)
        {
            // The previous request's fields were needed until its response; now start afresh.
            parser.reset();
            x.parsedWhole = false;
        }
        int result = HttpRequestParser.NEED_MORE;
        BufferDescriptor d;
        while (result == HttpRequestParser.NEED_MORE && (d = in.first()) != null)
        {
            final ByteBuffer bytes = d.readableBuffer();
            final int before = bytes.remaining();
            result = parser.feed(bytes);
            final int used = before - bytes.remaining();
            if (used == d.length())
            {
                in.removeFirst().release();
            }
            else
            {
                d.skip(used);
            }
        }
        if (result == HttpRequestParser.NEED_MORE)
        {
            if (!x.partial)
            {
                x.partial = true;
                c.readDeadline(service.requestTimeoutNanos()); // slowloris: the rest must come in time
            }
            if (c.inputEnded())
            {
                c.close(); // the peer stopped sending mid-request
            }
            return Outcome.done();
        }
        x.partial = false;
        c.clearReadDeadline();
        if (result == HttpRequestParser.ERROR)
        {
            x.respond(parser.errorStatus(), TEXT, text(parser.errorStatus() + " " + parser.errorReason() + "\n"));
            x.close = true; // after a framing error the rest of the stream cannot be trusted
            parser.reset();
            return Outcome.next(respond);
        }
        x.parsedWhole = true;
        x.method = parser.method();
        x.path = parser.path();
        x.query = parser.query();
        x.keepAlive = parser.keepAlive();
        x.headOnly = "HEAD".equals(x.method);
        return Outcome.next(route);
    }

    // ------------------------------------------------------------------ route

    private Outcome route(final HttpExchange x)
    {
        final String path = x.path;
        final String method = x.method;
        if (path.equals("/hello"))
        {
            return getOrHead(x, hello);
        }
        if (path.startsWith("/files/"))
        {
            return getOrHead(x, files);
        }
        if (path.startsWith("/kv/"))
        {
            final String key = path.substring(4);
            if (key.isEmpty() || key.indexOf('/') >= 0 || key.length() > 256)
            {
                return error(x, 404, "a key is one path segment of 1 to 256 characters: /kv/{key}\n");
            }
            if (!method.equals("GET") && !method.equals("PUT") && !method.equals("DELETE"))
            {
                x.extraHeaders = "Allow: GET, PUT, DELETE\r\n";
                return error(x, 405, "use GET, PUT or DELETE on /kv/{key}\n");
            }
            x.kvKey = key;
            x.kvKeyHash = key.hashCode();
            return Outcome.next(kv);
        }
        if (path.equals("/metrics"))
        {
            return getOrHead(x, metrics);
        }
        if (path.equals("/stats"))
        {
            return getOrHead(x, stats);
        }
        if (path.equals("/slow"))
        {
            return getOrHead(x, slow);
        }
        return error(x, 404, "no such resource: " + path + "\n");
    }

    private Outcome getOrHead(final HttpExchange x, final StageRef<HttpExchange> stage)
    {
        if (x.method.equals("GET") || x.method.equals("HEAD"))
        {
            return Outcome.next(stage);
        }
        x.extraHeaders = "Allow: GET, HEAD\r\n";
        return error(x, 405, x.method + " is not allowed here; use GET or HEAD\n");
    }

    private Outcome error(final HttpExchange x, final int status, final String message)
    {
        x.respond(status, TEXT, text(message));
        return Outcome.next(respond);
    }

    // ------------------------------------------------------------------ respond

    /**
     * Gathers the head and body into one chain of pooled chunks and writes it, or the head and a
     * sendfile region. Runs on the connection's worker.
     */
    private Outcome respond(final HttpExchange x, final StageContext ctx)
    {
        send(x, ctx.allocator());
        final Connection c = x.connection;
        if (!x.closing && c.isOpen() && c.isWritable() && c.inbound().readableBytes() > 0)
        {
            // The next pipelined request is already here: parse it in this same dispatch, no new
            // submission, so it neither queues behind the ring nor needs a second in-flight slot.
            return Outcome.next(parse);
        }
        return Outcome.done();
    }

    /**
     * Writes x's response to its connection; on the connection's worker. If the response cannot
     * be built (no chunk to be had) everything taken is released and the exception propagates.
     */
    void send(final HttpExchange x, final BufferAllocator allocator)
    {
        final Connection c = x.connection;
        final boolean close = x.close || !x.keepAlive;
        final FileChannel file = x.file;
        x.file = null;
        // 304 and 204 carry no Content-Length of their own body (RFC 9110 8.6): -1 omits the header.
        final long length = x.status == 304 ? -1 : file != null ? x.fileLength : x.bodyLength;
        final ByteBuffer head = heads[c.workerIndex()];
        head.clear();
        ResponseEncoder.head(head, x.status, x.contentType, length, close, x.extraHeaders);
        head.flip();
        final BufferChain out = allocator.newChain();
        try
        {
            append(out, allocator, head);
            if (!x.headOnly && x.body != null && x.bodyLength > 0)
            {
                append(out, allocator, ByteBuffer.wrap(x.body, 0, x.bodyLength));
            }
        }
        catch (final RuntimeException ex)
        {
            out.release();
            if (file != null)
            {
                Endpoints.closeQuietly(file);
            }
            throw ex;
        }
        if (close)
        {
            x.closing = true; // before writing: a pipelined request behind this one is never run
        }
        if (file != null && !x.headOnly)
        {
            c.sendFile(out, file, 0, x.fileLength); // head and body in one flush
        }
        else
        {
            c.write(out);
            if (file != null)
            {
                Endpoints.closeQuietly(file);
            }
        }
        service.logAccess(x, Math.max(0, length));
        if (close && c.isOpen())
        {
            c.closeAfterFlush();
        }
    }

    /** Copies {@code src} into the chain's last chunk and fresh ones: small copies, one gather write. */
    private static void append(final BufferChain chain, final BufferAllocator allocator, final ByteBuffer src)
    {
        while (src.hasRemaining())
        {
            BufferDescriptor last = chain.last();
            if (last == null || last.writableBytes() == 0)
            {
                last = allocator.allocate();
                chain.append(last);
            }
            last.put(src);
        }
    }

    static byte[] text(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
