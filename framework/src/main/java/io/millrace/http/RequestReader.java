package io.millrace.http;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.SlabExhaustedException;
import io.millrace.net.Connection;
import io.millrace.worker.Fatal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The read path of a connection, on its worker: feeds the connection's unread bytes to its parser,
 * routes a head as soon as it is complete, and takes body parts as they arrive, so that a request
 * enters the pipeline (and takes an in-flight permit) only once it is whole.
 *
 * <p>Body memory: a body is charged to the server's {@link BodyBudget} as it arrives, never for
 * what it announces, and in whole chunks, the memory it really holds. Its first part is a slice of
 * the connection's input chunk (no copy: a small body read together with its head costs nothing
 * more, but keeps that chunk, so it is charged the chunk); later parts are copied into chunks of the
 * body's own, so a body of n bytes holds at most n bytes plus two chunks however small the reads
 * that brought it. A streamed route's parts go to its {@link BodyListener}, charged their bytes
 * while it runs, and are released at once. A proxy route's upload above its request-buffering limit
 * enters the pipeline at its head ({@link HttpExchange#uploading}), with at most the part that came
 * with the head kept; the proxy reads the rest from the connection's input as the upstream takes it.
 */
final class RequestReader
{
    /** The parser needs more bytes: a started request has a deadline armed. */
    static final int WAIT = 0;
    /** A whole request is routed: submit it (or continue at the route stage). */
    static final int READY = 1;
    /** The server answers this request itself (a parse error, 404, 503...): send it now. */
    static final int RESPOND = 2;

    private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NOT_FOUND = "not found\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NOT_ALLOWED = "method not allowed\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BUSY = "request bodies use all the memory the server allows for them; retry\n"
        .getBytes(StandardCharsets.US_ASCII);
    static final byte[] INTERNAL = "internal error\n".getBytes(StandardCharsets.US_ASCII);

    private RequestReader()
    {
    }

    /**
     * Parses what the connection has read, up to the end of one request.
     *
     * @param x the connection's exchange, not in the pipeline
     * @return {@link #WAIT}, {@link #READY} or {@link #RESPOND}
     */
    static int read(final HttpExchange x)
    {
        final Connection c = x.connection;
        final BufferChain in = c.inbound();
        final HttpRequestParser parser = x.parser;
        BufferDescriptor d;
        while ((d = in.first()) != null)
        {
            if (d.length() == 0)
            {
                in.removeFirst().release();
                continue;
            }
            final ByteBuffer view = d.readableBuffer();
            final int base = view.position();
            final int result = parser.feed(view);
            final int used = view.position() - base;
            int answer = -1;
            if (!x.headDone && parser.headComplete())
            {
                answer = onHead(x);
            }
            if (result == HttpRequestParser.BODY_PART && answer < 0)
            {
                answer = takePart(x, d, view, base, base + used - parser.partLength(), parser.partLength());
                view.limit(base + (int)d.length()).position(base + used);
            }
            if (used == d.length())
            {
                in.removeFirst().release();
            }
            else
            {
                d.skip(used);
            }
            if (answer >= 0)
            {
                return finished(x, answer);
            }
            if (result == HttpRequestParser.COMPLETE || parser.isComplete())
            {
                return finished(x, READY);
            }
            if (x.uploading && result != HttpRequestParser.ERROR)
            {
                return finished(x, READY); // in at the head: the proxy streams the rest of the body
            }
            if (result == HttpRequestParser.ERROR)
            {
                x.abortStream(); // a streamed body broken mid-way (a bad chunk, over the limit)
                x.serverResponse(parser.errorStatus(), (parser.errorStatus() + " " + parser.errorReason() + "\n")
                    .getBytes(StandardCharsets.US_ASCII));
                x.closeAfter = true; // after a framing error the rest of the stream cannot be trusted
                return finished(x, RESPOND);
            }
        }
        if (!x.partial)
        {
            x.partial = true;
            c.readDeadline(x.server.requestTimeoutNanos); // slowloris: the rest must come in time
        }
        return WAIT;
    }

    private static int finished(final HttpExchange x, final int answer)
    {
        if (x.partial)
        {
            x.partial = false;
            x.connection.clearReadDeadline();
        }
        return answer;
    }

    /** Routes a complete head; answers 404 or 405 itself; sends 100 Continue if the client waits for it. */
    private static int onHead(final HttpExchange x)
    {
        x.headDone = true;
        final HttpRequestParser p = x.parser;
        final byte[] path = p.pathArray();
        final int start = p.pathStart();
        final int end = p.pathEnd();
        final Route route = x.server.match(p.method(), path, start, end);
        if (route == null)
        {
            final int allowed = x.server.allowed(path, start, end);
            if (allowed == 0)
            {
                x.serverResponse(404, NOT_FOUND);
            }
            else
            {
                x.serverResponse(405, NOT_ALLOWED);
                x.header("Allow", Methods.allow(allowed));
            }
            if (p.hasBody())
            {
                x.closeAfter = true; // its body is not read: the stream cannot be framed past it
            }
            return RESPOND;
        }
        x.route = route;
        x.paramStart = route.prefix ? start + route.pattern.length : end;
        int hash = 0;
        for (int i = x.paramStart; i < end; i++)
        {
            hash = 31 * hash + path[i];
        }
        x.routeKeyHash = hash;
        // A proxy route streams a body it would not buffer: of unknown length, or longer than its limit.
        x.uploading = route.streamBodiesAbove >= 0 && p.hasBody()
            && (p.chunked() || p.contentLength() > route.streamBodiesAbove);
        if (p.expectsContinue() && p.hasBody() && p.versionMinor() == 1 && p.bodyReceived() == 0)
        {
            sendContinue(x);
        }
        return -1;
    }

    private static void sendContinue(final HttpExchange x)
    {
        final BufferAllocator allocator = x.connection.allocator();
        final BufferChain out = allocator.newChain();
        try
        {
            final BufferDescriptor d = allocator.allocate();
            out.append(d);
            d.put(CONTINUE, 0, CONTINUE.length);
        }
        catch (final RuntimeException ex)
        {
            out.release();
            throw ex;
        }
        x.connection.write(out);
        x.server.continues.incrementAndGet();
    }

    /**
     * Takes {@code n} body bytes at {@code view[at, at + n)} of descriptor {@code d}, whose data
     * starts at {@code view[base]}.
     *
     * @return -1 to go on, or {@link #RESPOND} if the request is answered now
     */
    private static int takePart(final HttpExchange x, final BufferDescriptor d, final ByteBuffer view, final int base,
        final int at, final int n)
    {
        if (n == 0)
        {
            return -1;
        }
        final BufferAllocator allocator = x.connection.allocator();
        final BodyListener listener = x.route.bodyListener;
        try
        {
            return listener != null ? stream(x, listener, allocator, d, base, at, n) : keep(x, allocator, d, view, base, at, n);
        }
        catch (final SlabExhaustedException ex)
        {
            return refuse(x); // no pooled buffer for the body: this request alone fails, with a clear status
        }
    }

    /** Answers 503 with Retry-After, dropping what the body holds: no memory for it now. */
    private static int refuse(final HttpExchange x)
    {
        x.abortStream();
        x.releaseRequestBody();
        x.serverResponse(503, BUSY);
        x.header("Retry-After", "1");
        x.closeAfter = true;
        return RESPOND;
    }

    private static int stream(final HttpExchange x, final BodyListener listener, final BufferAllocator allocator,
        final BufferDescriptor d, final int base, final int at, final int n)
    {
        final BodyBudget budget = x.server.budget;
        if (!budget.tryCharge(n))
        {
            return refuse(x);
        }
        final BufferChain part = allocator.newChain();
        try
        {
            part.append(allocator.slice(d, at - base, n));
            listener.onBodyPart(x, part);
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            x.streamEnded = true; // a listener that threw hears no more
            x.server.handlerErrors.incrementAndGet();
            x.server.errors.warn("body listener of route " + x.route.patternText() + " failed", "answering 500", ex);
            x.serverResponse(500, INTERNAL);
            x.closeAfter = true;
            return RESPOND;
        }
        finally
        {
            part.release();
            budget.release(n);
        }
        return -1;
    }

    /**
     * Keeps a part of the body: the first as a slice of the input chunk, later ones copied into
     * chunks of the body's own. The budget is charged whole chunks, the memory really held: a slice
     * keeps its whole input chunk alive, so a thousand one-byte bodies are charged a thousand chunks.
     */
    private static int keep(final HttpExchange x, final BufferAllocator allocator, final BufferDescriptor d, final ByteBuffer view,
        final int base, final int at, final int n)
    {
        final BodyBudget budget = x.server.budget;
        if (x.requestBody == null)
        {
            if (!budget.tryCharge(d.capacity()))
            {
                return refuse(x);
            }
            x.bodyCharged += d.capacity();
            x.requestBody = allocator.newChain();
            x.requestBody.append(allocator.slice(d, at - base, n));
            return -1;
        }
        view.limit(at + n).position(at);
        while (view.hasRemaining())
        {
            BufferDescriptor last = x.requestBody.last();
            if (last.writableBytes() == 0)
            {
                final int chunk = allocator.arena().chunkSize();
                if (!budget.tryCharge(chunk))
                {
                    return refuse(x);
                }
                x.bodyCharged += chunk;
                last = allocator.allocate();
                x.requestBody.append(last);
            }
            last.put(view);
        }
        return -1;
    }
}
