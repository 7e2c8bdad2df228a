package io.millrace.http;

import io.millrace.balance.UpstreamGroup;
import io.millrace.net.OutboundOptions;
import io.millrace.net.TcpServer;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;

import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP reverse proxy in front of an {@link UpstreamGroup}: routed with
 * {@link HttpServerBuilder#proxy(String, HttpProxy)}, it takes each request on the client
 * connection's worker, picks an upstream with that worker's {@code Balancer}, leases a connection
 * from that worker's outbound pool, sends the request (hop-by-hop fields removed, forwarding fields
 * added), and streams the response back as it arrives, reading the upstream only while the client
 * keeps up. Failed attempts go to the next upstream within the retry rules (see
 * {@link HttpProxyBuilder}); when none is left the client gets 502, 503 or 504 with a short body.
 *
 * <p>Threading: configuration is immutable; each worker's state ({@link ProxyWorker}) is made and
 * used on that worker only. The counters are atomics read by any thread.
 */
public final class HttpProxy
{
    final UpstreamGroup group;
    final HttpProxyBuilder settings;
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong clientPauses = new AtomicLong();
    private volatile TcpServer transport;
    private ProxyWorker[] workers;
    Outcome doneOutcome;

    HttpProxy(final HttpProxyBuilder settings)
    {
        this.group = settings.group;
        this.settings = settings;
    }

    /**
     * @param group the upstreams to proxy to
     * @return a builder with the defaults listed on {@link HttpProxyBuilder}
     */
    public static HttpProxyBuilder builder(final UpstreamGroup group)
    {
        return new HttpProxyBuilder(group);
    }

    /** @return the group this proxy balances over */
    public UpstreamGroup group()
    {
        return group;
    }

    /** @return attempts made after a first one failed, over all workers */
    public long retries()
    {
        return retries.get();
    }

    /** @return requests answered with the proxy's own 502, 503 or 504, or cut off mid-response */
    public long errors()
    {
        return errors.get();
    }

    /** @return times an upstream's reading was paused because its client read slower than it sent */
    public long clientPauses()
    {
        return clientPauses.get();
    }

    void countClientPause()
    {
        clientPauses.incrementAndGet();
    }

    OutboundOptions outboundOptions()
    {
        return settings.outbound;
    }

    /** @return the body length above which a request's body streams, -1 if every body is kept whole */
    long streamBodiesAbove()
    {
        return settings.requestBufferBytes == Long.MAX_VALUE ? -1 : settings.requestBufferBytes;
    }

    void claim(final Outcome done)
    {
        if (doneOutcome != null)
        {
            throw new IllegalStateException("this HttpProxy is routed already; build one HttpProxy per route");
        }
        doneOutcome = done;
    }

    void attach(final TcpServer server, final int workerCount)
    {
        if (group.workers() < workerCount)
        {
            throw new IllegalArgumentException("the upstream group has balancers for " + group.workers() + " workers but the" +
                " server runs " + workerCount + ": build the group with UpstreamGroup.builder().workers(" + workerCount + ")");
        }
        workers = new ProxyWorker[workerCount];
        transport = server;
    }

    void countRetry()
    {
        retries.incrementAndGet();
    }

    void countError()
    {
        errors.incrementAndGet();
    }

    /** The proxy stage, on the connection's worker: parks the request and starts the first attempt. */
    Outcome handle(final HttpExchange x, final StageContext ctx)
    {
        final int w = ctx.workerIndex();
        ProxyWorker worker = workers[w];
        if (worker == null)
        {
            // Made on the worker's own thread: its balancer and pools are used there only.
            worker = new ProxyWorker(this, transport.outbound(w), group.balancer(w, settings.policy), settings.via);
            workers[w] = worker;
            worker.prober = new ProxyProber(worker, ctx.timers(), settings.healthPath);
        }
        worker.obtain().start(x, ctx);
        return Outcome.blocked();
    }

    /** The done stage: the call resumed the request with the response set (or already streamed). */
    Outcome done(final HttpExchange x, final StageContext ctx)
    {
        final ProxyCall call = x.proxyCall;
        if (call != null)
        {
            ctx.unhold(call);
            call.recycle();
        }
        return x.server.respondOutcome();
    }
}
