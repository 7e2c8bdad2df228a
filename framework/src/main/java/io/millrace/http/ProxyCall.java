package io.millrace.http;

import io.millrace.balance.CallOutcome;
import io.millrace.balance.PickFailure;
import io.millrace.balance.Tried;
import io.millrace.balance.Upstream;
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
import java.nio.charset.StandardCharsets;

/**
 * One proxied request, from the pick to the last byte relayed: the attempts (each a pick, a leased
 * connection, the request sent, the response parsed) and the retry decisions. The two directions
 * are its parts: {@link ProxyUpload} sends the request (its body whole, or streamed as it arrives),
 * {@link ProxyRelay} streams the response to the client while the request stays parked. It resumes
 * the request once, at the done stage, with the response either already written ({@code streamed})
 * or set to the proxy's own 502/503/504; or, if the client went away, the runtime withdraws the
 * suspension and calls {@link #releaseAbandoned}, which gives the connection back. Exactly one of the
 * two recycles it.
 *
 * <p>Threading: the worker of the client connection only: the stage, the outbound callbacks (same
 * worker's loop) and the client connection's callbacks. A shutdown may call {@link #releaseAbandoned}
 * from another thread: then nothing is touched (the transport closes the connections itself).
 */
final class ProxyCall implements OutboundHandler, HeldResource
{
    private static final byte[] BAD_GATEWAY = bytes("bad gateway: no upstream answered\n");
    private static final byte[] UNAVAILABLE = bytes("service unavailable: every upstream is busy or down\n");
    private static final byte[] GATEWAY_TIMEOUT = bytes("gateway timeout: the upstream did not answer in time\n");
    /** Fresh-connection retries after a pooled connection failed before answering (the keep-alive race). */
    private static final int MAX_STALE_RETRIES = 2;

    final ProxyWorker w;
    final ProxyRelay relay = new ProxyRelay(this);
    final ProxyUpload upload = new ProxyUpload(this);
    private final Tried tried = new Tried();

    HttpExchange x;
    Connection client;
    String clientAddress;
    private Suspension suspension;
    private boolean idempotent;
    private long firstStart;
    private int attempts;
    private int staleRetries;
    private int lastError;

    Upstream upstream;
    OutboundConnection conn;
    private long attemptStart;
    /** The attempt's connection is being connected: counted in the balancer's pending (max-pending). */
    private boolean pending;
    private boolean inOnClosed;

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
            upload.begin(exchange);
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

    // ------------------------------------------------------------------ attempts and retries

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
        relay.parser.reset(x.method());
        upload.attemptStarted();
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

    /**
     * @return whether the request may still go to another upstream after it was sent: idempotent (or
     *         allowed), and no streamed body byte went out unkept
     */
    private boolean mayResend()
    {
        return (idempotent || w.proxy.settings.retryNonIdempotent) && upload.replayable();
    }

    /** @return whether a retryable 5xx head may be retried rather than relayed */
    boolean mayRetryStatus()
    {
        return attempts < w.proxy.settings.tries && mayResend();
    }

    /** The attempt failed before any response byte reached the client: next upstream, or the error. */
    void attemptFailed(final int status, final boolean requestReached)
    {
        endAttempt(CallOutcome.FAILURE, true);
        lastError = status;
        if (requestReached && !mayResend())
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
        upload.sendHead(c);
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
            relay.relay(c);
        }
        finally
        {
            leave();
        }
    }

    @Override
    public void onWritable(final OutboundConnection c)
    {
        if (c != conn)
        {
            return;
        }
        depth++;
        try
        {
            upload.pump(c); // the upstream drained: take more of the client's body
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
            relay.relay(c); // what came before the close
            if (conn != c)
            {
                return; // the response completed (or failed) within those bytes
            }
            if (cause == OutboundCloseCause.PEER_CLOSED && relay.parser.endOfInput() == HttpResponseParser.COMPLETE)
            {
                relay.endAtClose(); // a close-delimited body relayed chunked gets its last chunk
                complete(c);
                return;
            }
            if (relay.headSent)
            {
                cutClient(); // part of the response went out: the client sees a cut-short body
                return;
            }
            if (staleReuse && staleRetries < MAX_STALE_RETRIES && mayResend())
            {
                // The keep-alive race: the request most likely never reached the upstream's
                // application. Most likely only: an upstream that read it, acted on it and then died
                // looks the same, so a non-idempotent request is not sent again (nginx and Go's
                // client do the same).
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

    // ------------------------------------------------------------------ the client connection's events

    /** The client's connection drained below its cap: read the upstream again. */
    void clientWritable()
    {
        if (!relay.paused || conn == null)
        {
            return;
        }
        depth++;
        try
        {
            relay.clientWritable(conn);
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

    /** The client's connection read more of a streamed body: pass it on if the upstream takes it. */
    void clientReadable()
    {
        if (conn == null || !upload.streaming())
        {
            return;
        }
        depth++;
        try
        {
            upload.pump(conn);
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            x.server.errors.warn("proxy upload failed on " + x, "closing the client's connection", ex);
            cutClient();
        }
        finally
        {
            leave();
        }
    }

    /**
     * The client's streamed body broke its framing or a limit (400, 413): the upstream attempt is
     * dropped (not the upstream's fault) and the client gets the status, or a cut if a response began.
     */
    void clientBodyBroken(final int status)
    {
        endAttempt(CallOutcome.NEUTRAL, true);
        x.closeAfterResponse(); // the rest of the stream cannot be framed
        if (relay.headSent)
        {
            x.streamer = null;
            client.close();
            x.streamed = true;
            resume();
            return;
        }
        x.respond(status, HeaderBlock.TEXT_PLAIN, bytes(status + " the request body is malformed or too large\n"));
        resume();
    }

    // ------------------------------------------------------------------ ending

    /** The response is whole: the connection goes back to the pool if it may. */
    void complete(final OutboundConnection c)
    {
        // Pooled only after a whole exchange: an upstream that answered before the body was all sent
        // still expects the rest on that connection.
        final boolean reusable = relay.parser.keepAlive() && upload.bodySent();
        conn = null;
        if (!inOnClosed)
        {
            w.out.release(c, reusable);
        }
        endPending(); // a response can only follow a connect, but keep the count exact whatever the path
        w.balancer.onEnd(upstream, System.nanoTime() - attemptStart, CallOutcome.SUCCESS);
        upstream = null;
        relay.paused = false;
        if (!upload.bodySent())
        {
            x.closeAfterResponse(); // the rest of the client's body is never read
        }
        x.streamer = null;
        x.streamed = true;
        resume();
    }

    /** The response broke after its head went out: the client's connection is cut so it sees a short body. */
    void cutClient()
    {
        endAttempt(CallOutcome.FAILURE, true);
        w.proxy.countError();
        x.streamer = null;
        client.close(); // cancels the parked request: releaseAbandoned follows
        x.streamed = true;
        resume();
    }

    private void fail(final int status)
    {
        w.proxy.countError();
        final byte[] body = status == 503 ? UNAVAILABLE : status == 504 ? GATEWAY_TIMEOUT : BAD_GATEWAY;
        x.respond(status, HeaderBlock.TEXT_PLAIN, body);
        if (!upload.bodySent())
        {
            x.closeAfterResponse(); // part of a streamed body is still unread: the stream cannot be framed past it
        }
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
        relay.reset();
        upload.reset();
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

    private static byte[] bytes(final String s)
    {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
