package io.millrace.http;

import io.millrace.balance.CallOutcome;
import io.millrace.balance.PickFailure;
import io.millrace.balance.Tried;
import io.millrace.balance.Upstream;
import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.net.ConnectFailure;
import io.millrace.net.Connection;
import io.millrace.net.OutboundCloseCause;
import io.millrace.net.OutboundConnection;
import io.millrace.net.OutboundHandler;
import io.millrace.stage.HeldResource;
import io.millrace.stage.StageContext;
import io.millrace.stage.Suspension;
import io.millrace.worker.Fatal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One proxied request, from the pick to the last byte relayed: the attempts (each a pick, a leased
 * connection, the request sent, the response parsed), the retry decisions, and the response
 * streamed to the client while the request stays parked. It resumes the request once, at the done
 * stage, with the response either already written ({@code streamed}) or set to the proxy's own
 * 502/503/504; or, if the client went away, the runtime withdraws the suspension and calls
 * {@link #releaseAbandoned}, which gives the connection back. Exactly one of the two recycles it.
 *
 * <p>Threading: the worker of the client connection only: the stage, the outbound callbacks (same
 * worker's loop) and the client's {@code onWritable}. A shutdown may call {@link #releaseAbandoned}
 * from another thread: then nothing is touched (the transport closes the connections itself).
 */
final class ProxyCall implements OutboundHandler, HeldResource
{
    private static final byte[] BAD_GATEWAY = bytes("bad gateway: no upstream answered\n");
    private static final byte[] UNAVAILABLE = bytes("service unavailable: every upstream is busy or down\n");
    private static final byte[] GATEWAY_TIMEOUT = bytes("gateway timeout: the upstream did not answer in time\n");
    private static final byte[] CHUNKED_LINE = bytes("Transfer-Encoding: chunked\r\n");
    /** Response bytes gathered per write to the client before its writability is checked again. */
    private static final int WRITE_BATCH = 64 * 1024;
    /** Fresh-connection retries after a pooled connection failed before answering (the keep-alive race). */
    private static final int MAX_STALE_RETRIES = 2;

    private final ProxyWorker w;
    private final HttpResponseParser parser = new HttpResponseParser();
    private final Tried tried = new Tried();

    private HttpExchange x;
    private Connection client;
    private Suspension suspension;
    private String clientAddress;
    private boolean idempotent;
    private long firstStart;
    private int attempts;
    private int staleRetries;
    private int lastError;

    private Upstream upstream;
    private OutboundConnection conn;
    private long attemptStart;
    /** The attempt's connection is being connected: counted in the balancer's pending (max-pending). */
    private boolean pending;
    private boolean inOnClosed;

    private boolean headSent;
    private boolean chunkedToClient;
    private boolean paused;
    private boolean resumed;
    private boolean abandoned;
    /** Nesting of this call's own code on the stack: an abandonment inside it defers the recycle. */
    private int depth;

    ProxyCall(final ProxyWorker w)
    {
        this.w = w;
    }

    void start(final HttpExchange exchange, final StageContext ctx)
    {
        x = exchange;
        client = exchange.connection();
        suspension = ctx.suspend();
        ctx.hold(this);
        exchange.proxyCall = this;
        depth++;
        try
        {
            clientAddress = ((InetSocketAddress)client.remoteAddress()).getAddress().getHostAddress();
            idempotent = isIdempotent(exchange.method());
            firstStart = System.nanoTime();
            nextAttempt();
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            exchange.server.errors.warn("proxy failed on " + exchange, "answering 502", ex);
            endAttempt(CallOutcome.FAILURE, true);
            fail(502);
        }
        finally
        {
            leave();
        }
    }

    // ------------------------------------------------------------------ attempts

    /** Picks the next upstream and leases a connection to it; answers the last error when none is left. */
    private void nextAttempt()
    {
        while (true)
        {
            if (attempts >= w.proxy.settings.tries
                || attempts > 0 && System.nanoTime() - firstStart > w.proxy.settings.nextUpstreamNanos)
            {
                fail(lastError == 0 ? 502 : lastError);
                return;
            }
            final Upstream u = w.pick(tried, clientAddress);
            if (u == null)
            {
                fail(attempts > 0 && lastError != 0 ? lastError : w.balancer.lastFailure() == PickFailure.BUSY ? 503 : 502);
                return;
            }
            if (attempts > 0)
            {
                w.proxy.countRetry();
            }
            attempts++;
            if (lease(u))
            {
                return;
            }
            lastError = 503; // this worker is at its connection limit for u: the next one may take it
        }
    }

    private boolean lease(final Upstream u)
    {
        final OutboundConnection c = w.out.acquire(w.address(u), this);
        if (c == null)
        {
            return false;
        }
        upstream = u;
        conn = c;
        attemptStart = System.nanoTime();
        w.balancer.onStart(u);
        if (!c.reused())
        {
            pending = true; // a fresh connect: the request waits for it (a pooled one is ready at once)
            w.balancer.pendingStarted(u);
        }
        parser.reset(x.method());
        return true;
    }

    /** Ends the current attempt's statistics; {@code drop} also ends its lease with a reset. */
    private void endAttempt(final CallOutcome outcome, final boolean drop)
    {
        final OutboundConnection c = conn;
        conn = null;
        if (c != null && drop && !inOnClosed)
        {
            c.abort();
        }
        endPending();
        if (upstream != null)
        {
            w.balancer.onEnd(upstream, System.nanoTime() - attemptStart, outcome);
        }
        upstream = null;
    }

    /** The attempt's connect is over (connected, failed or abandoned): it no longer counts as pending. */
    private void endPending()
    {
        if (pending)
        {
            pending = false;
            w.balancer.pendingEnded(upstream);
        }
    }

    /** The attempt failed before any response byte reached the client: next upstream, or the error. */
    private void attemptFailed(final int status, final boolean requestReached)
    {
        endAttempt(CallOutcome.FAILURE, true);
        lastError = status;
        if (requestReached && !idempotent && !w.proxy.settings.retryNonIdempotent)
        {
            fail(status);
            return;
        }
        nextAttempt();
    }

    // ------------------------------------------------------------------ the upstream's callbacks

    @Override
    public void onConnected(final OutboundConnection c)
    {
        if (c != conn)
        {
            return;
        }
        endPending();
        final ByteBuffer fields = w.fields.clear();
        w.headers.copyRequestFields(x, clientAddress, false, fields);
        fields.flip();
        final long bodyLength = x.bodyLength();
        final long framing = bodyLength > 0 ? bodyLength : mayHaveBody(x.method()) ? 0 : RequestEncoder.NO_BODY;
        final String query = x.query();
        final String target = query == null ? x.path() : x.path() + '?' + query;
        final ByteBuffer head = w.head.clear();
        RequestEncoder.head(head, x.method(), target, upstream.name(), HeaderBlock.EMPTY, framing, false, fields);
        final BufferChain out = c.allocator().newChain();
        try
        {
            append(out, c.allocator(), head.array(), 0, head.position());
            final BufferChain body = x.body();
            if (body != null)
            {
                // Copied, not handed over: the body must stay for a retry on another upstream.
                for (BufferDescriptor d = body.first(); d != null; d = d.next())
                {
                    append(out, c.allocator(), d.readableBuffer());
                }
            }
        }
        catch (final RuntimeException ex)
        {
            out.release();
            throw ex;
        }
        c.write(out);
    }

    @Override
    public void onConnectFailed(final OutboundConnection c, final ConnectFailure cause, final Exception detail)
    {
        if (c != conn)
        {
            return;
        }
        depth++;
        inOnClosed = true;
        try
        {
            attemptFailed(cause == ConnectFailure.TIMEOUT ? 504 : 502, false); // no byte reached the upstream
        }
        finally
        {
            inOnClosed = false;
            leave();
        }
    }

    @Override
    public void onData(final OutboundConnection c)
    {
        if (c != conn)
        {
            return;
        }
        depth++;
        try
        {
            relay(c);
        }
        finally
        {
            leave();
        }
    }

    @Override
    public void onClosed(final OutboundConnection c, final OutboundCloseCause cause, final boolean staleReuse)
    {
        if (c != conn)
        {
            return;
        }
        depth++;
        inOnClosed = true;
        try
        {
            relay(c); // what came before the close
            if (conn != c)
            {
                return; // the response completed (or failed) within those bytes
            }
            if (cause == OutboundCloseCause.PEER_CLOSED && parser.endOfInput() == HttpResponseParser.COMPLETE)
            {
                complete(c);
                return;
            }
            if (headSent)
            {
                cutClient(); // part of the response went out: the client sees a cut-short body
                return;
            }
            if (staleReuse && staleRetries < MAX_STALE_RETRIES)
            {
                // The keep-alive race: the request never reached the upstream's application.
                staleRetries++;
                final Upstream u = upstream;
                endAttempt(CallOutcome.NEUTRAL, false);
                if (!lease(u))
                {
                    lastError = 502;
                    nextAttempt();
                }
                return;
            }
            attemptFailed(cause == OutboundCloseCause.READ_TIMEOUT ? 504 : 502, true);
        }
        finally
        {
            inOnClosed = false;
            leave();
        }
    }

    // ------------------------------------------------------------------ relaying the response

    /** Feeds what the upstream sent to the parser and the client, while the client keeps up. */
    private void relay(final OutboundConnection c)
    {
        final BufferChain in = c.inbound();
        BufferChain out = null;
        BufferDescriptor d;
        while (conn == c && (d = in.first()) != null)
        {
            if (d.length() == 0)
            {
                in.removeFirst().release();
                continue;
            }
            if (headSent && out != null && out.readableBytes() >= WRITE_BATCH)
            {
                toClient(out);
                out = null;
                if (!client.isWritable())
                {
                    break;
                }
            }
            final ByteBuffer v = d.readableBuffer();
            final int base = v.position();
            final int result = parser.feed(v);
            final int used = v.position() - base;
            if (result == HttpResponseParser.BODY_PART && headSent)
            {
                if (out == null)
                {
                    out = client.allocator().newChain();
                }
                final int part = parser.partLength();
                if (chunkedToClient)
                {
                    final ByteBuffer f = w.framing.clear();
                    ChunkedEncoder.chunkHeader(f, part);
                    append(out, client.allocator(), f.array(), 0, f.position());
                }
                final int end = v.position();
                final int limit = v.limit();
                v.position(end - part).limit(end);
                append(out, client.allocator(), v); // pooled chunks are direct: copied buffer to buffer
                v.limit(limit).position(end);
                if (chunkedToClient)
                {
                    final ByteBuffer f = w.framing.clear();
                    ChunkedEncoder.chunkEnd(f);
                    append(out, client.allocator(), f.array(), 0, f.position());
                }
                x.streamedBytes += part;
            }
            if (used == d.length())
            {
                in.removeFirst().release();
            }
            else
            {
                d.skip(used);
            }
            if (result == HttpResponseParser.FINAL_HEAD)
            {
                out = onHead(out);
            }
            // The parser reports COMPLETE on the feed after the last part (or head); with no byte
            // left in the input that feed never comes, so completion is read from isComplete().
            if (conn == c && headSent && (result == HttpResponseParser.COMPLETE || result != HttpResponseParser.ERROR
                && parser.isComplete()))
            {
                if (out == null)
                {
                    out = client.allocator().newChain();
                }
                if (chunkedToClient)
                {
                    final ByteBuffer f = w.framing.clear();
                    ChunkedEncoder.lastChunk(f);
                    append(out, client.allocator(), f.array(), 0, f.position());
                }
                toClient(out);
                out = null;
                complete(c);
            }
            else if (result == HttpResponseParser.ERROR)
            {
                if (out != null)
                {
                    toClient(out);
                    out = null;
                }
                if (headSent)
                {
                    cutClient();
                }
                else
                {
                    attemptFailed(502, true);
                }
            }
            else if (result == HttpResponseParser.NEED_MORE && used == 0)
            {
                break; // nothing consumable yet (cannot happen with bytes left, but never spin)
            }
        }
        if (out != null)
        {
            toClient(out);
        }
        if (conn == c && headSent && !client.isWritable())
        {
            // The client is the slow one: stop reading the upstream until it drains (clientWritable).
            paused = true;
            x.streamer = this;
            c.pauseReading();
            w.proxy.countClientPause();
        }
    }

    /** The final head: retry it, or send the client its head. Returns the chain to gather into. */
    private BufferChain onHead(final BufferChain out)
    {
        final int status = parser.status();
        if (parser.upgraded())
        {
            attemptFailed(502, true); // we never forward Upgrade, so a 101 is the upstream's error
            return out;
        }
        final HttpProxyBuilder s = w.proxy.settings;
        if (status == 502 && s.retry502 || status == 503 && s.retry503 || status == 504 && s.retry504)
        {
            if (attempts < s.tries && (idempotent || s.retryNonIdempotent))
            {
                attemptFailed(status, true);
                return out;
            }
        }
        final long length = parser.contentLength();
        chunkedToClient = false;
        boolean close = !x.keepAlive();
        if (length < 0 && parser.hasBody() && !x.isHead())
        {
            if (x.versionMinor() == 1)
            {
                chunkedToClient = true;
            }
            else
            {
                close = true; // an HTTP/1.0 client reads to the close
            }
        }
        final ByteBuffer fields = w.fields.clear();
        w.headers.copyResponseFields(parser, fields);
        if (chunkedToClient)
        {
            fields.put(CHUNKED_LINE);
        }
        fields.flip();
        if (close)
        {
            x.closeAfterResponse();
        }
        final ByteBuffer head = w.head.clear();
        ResponseEncoder.head(head, status, HeaderBlock.EMPTY, length, close ? ResponseEncoder.CONNECTION_CLOSE
            : x.versionMinor() == 0 ? ResponseEncoder.CONNECTION_KEEP_ALIVE : ResponseEncoder.CONNECTION_DEFAULT, fields);
        final BufferChain chain = out != null ? out : client.allocator().newChain();
        append(chain, client.allocator(), head.array(), 0, head.position());
        x.status = status;
        headSent = true;
        return chain;
    }

    private void toClient(final BufferChain out)
    {
        client.write(out); // released at once if the client went away; its close abandons this call
    }

    /** The response is whole: the connection goes back to the pool if it may. */
    private void complete(final OutboundConnection c)
    {
        final boolean reusable = parser.keepAlive();
        conn = null;
        if (!inOnClosed)
        {
            w.out.release(c, reusable);
        }
        endPending(); // a response can only follow a connect, but keep the count exact whatever the path
        w.balancer.onEnd(upstream, System.nanoTime() - attemptStart, CallOutcome.SUCCESS);
        upstream = null;
        if (paused)
        {
            paused = false;
        }
        x.streamer = null;
        x.streamed = true;
        resume();
    }

    /** The response broke after its head went out: the client's connection is cut so it sees a short body. */
    private void cutClient()
    {
        endAttempt(CallOutcome.FAILURE, true);
        w.proxy.countError();
        x.streamer = null;
        client.close(); // cancels the parked request: releaseAbandoned follows
        x.streamed = true;
        resume();
    }

    /** The client's connection drained below its cap: read the upstream again. */
    void clientWritable()
    {
        if (!paused || conn == null)
        {
            return;
        }
        depth++;
        try
        {
            paused = false;
            x.streamer = null;
            final OutboundConnection c = conn;
            c.resumeReading();
            relay(c); // the bytes already waiting: no read will announce them again
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            x.server.errors.warn("proxy relay failed on " + x, "cutting the response", ex);
            cutClient();
        }
        finally
        {
            leave();
        }
    }

    // ------------------------------------------------------------------ ending

    private void fail(final int status)
    {
        w.proxy.countError();
        final byte[] body = status == 503 ? UNAVAILABLE : status == 504 ? GATEWAY_TIMEOUT : BAD_GATEWAY;
        x.respond(status, HeaderBlock.TEXT_PLAIN, body);
        resume();
    }

    private void resume()
    {
        if (resumed)
        {
            return;
        }
        resumed = true;
        try
        {
            suspension.resume(w.proxy.doneOutcome);
        }
        catch (final IllegalStateException withdrawn)
        {
            // The client went away and the request was cancelled: releaseAbandoned recycles this call.
        }
    }

    @Override
    public void releaseAbandoned(final StageContext holder)
    {
        if (Thread.currentThread() != w.thread)
        {
            abandoned = true; // a shutdown: the transport closes the upstream connections itself
            return;
        }
        abandoned = true;
        if (conn != null || upstream != null)
        {
            endAttempt(CallOutcome.NEUTRAL, true);
        }
        if (depth == 0)
        {
            recycle();
        }
    }

    private void leave()
    {
        depth--;
        if (depth == 0 && abandoned && x != null)
        {
            if (conn != null || upstream != null)
            {
                endAttempt(CallOutcome.NEUTRAL, true);
            }
            recycle();
        }
    }

    /** Forgets the request and goes back to the worker's free list. */
    void recycle()
    {
        if (x == null)
        {
            return;
        }
        if (x.proxyCall == this)
        {
            x.proxyCall = null;
        }
        if (x.streamer == this)
        {
            x.streamer = null;
        }
        x = null;
        client = null;
        suspension = null;
        clientAddress = null;
        upstream = null;
        conn = null;
        pending = false;
        tried.clear();
        attempts = 0;
        staleRetries = 0;
        lastError = 0;
        headSent = false;
        chunkedToClient = false;
        paused = false;
        resumed = false;
        abandoned = false;
        inOnClosed = false;
        w.giveBack(this);
    }

    // ------------------------------------------------------------------ helpers

    /** RFC 9110 section 9.2.2: GET, HEAD, PUT, DELETE, OPTIONS and TRACE may be repeated. */
    static boolean isIdempotent(final String method)
    {
        return switch (method)
        {
            case "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE" -> true;
            default -> false;
        };
    }

    private static boolean mayHaveBody(final String method)
    {
        return "POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method);
    }

    private static void append(final BufferChain chain, final BufferAllocator allocator, final byte[] src, final int index,
        final int length)
    {
        int at = index;
        final int end = index + length;
        while (at < end)
        {
            BufferDescriptor last = chain.last();
            if (last == null || last.writableBytes() == 0)
            {
                last = allocator.allocate();
                chain.append(last);
            }
            at += last.put(src, at, end - at);
        }
    }

    /** Copies {@code src}'s remaining bytes into the chain, consuming them. */
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

    private static byte[] bytes(final String s)
    {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
