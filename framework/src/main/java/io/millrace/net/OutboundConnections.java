package io.millrace.net;

import io.millrace.memory.BufferAllocator;
import io.millrace.stage.WorkerTimers;
import io.millrace.worker.Fatal;

import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Arrays;
import java.util.Objects;

/**
 * One worker's outbound (client) connections: it opens them in the worker's own selector, keeps the
 * idle ones in a keep-alive pool per upstream address, polls them in the same loop as the worker's
 * inbox and accepted connections, and times them out on the worker's timers. Thread per core: no lock,
 * no other thread, no hand-off; a connection lives and dies on the worker that opened it. Get it from
 * {@link TcpServer#outbound(int)} with the index of the worker the code runs on.
 *
 * <pre>{@code
 * OutboundConnections out = server.outbound(ctx.workerIndex());      // in a stage, on its worker
 * OutboundConnection c = out.acquire(upstream, exchange);            // exchange implements OutboundHandler
 * if (c == null) { ... } // at the per-upstream limit: try another upstream, or answer 503
 * // exchange.onConnected(c):  c.write(request)
 * // exchange.onData(c):       parse c.inbound(); once the response is complete: out.release(c, keepAlive)
 * // exchange.onClosed(c, cause, staleReuse): if staleReuse, retry on a fresh connection
 * }</pre>
 *
 * <p>Limits, per worker: {@link OutboundOptions#maxConnectionsPerUpstream} connections and
 * {@link OutboundOptions#maxIdlePerUpstream} idle ones per address, {@link OutboundOptions#maxUpstreams}
 * addresses, so memory and descriptors stay bounded whatever the load. An idle connection is closed after
 * {@link OutboundOptions#idleTimeout} or when its upstream closes it or sends anything, and is not pooled
 * again past {@link OutboundOptions#maxRequestsPerConnection} or {@link OutboundOptions#maxLifetime}. The
 * transport's close (at the pipeline's shutdown) closes every connection.
 *
 * <p>Threading: owned by one worker thread; every method but {@link #workerIndex()} checks it.
 * {@link OutboundHandler} callbacks run in the worker's loop, never inside a method called by the
 * handler: outcomes known at once (a pooled connection, a connect that failed at once, a write that failed
 * or drained) are queued and delivered in the transport's next poll, later in the same worker turn. The
 * parts: {@link OutboundLifecycle} (state changes, timers), {@link OutboundIo} (ready keys, reads, writes),
 * {@link OutboundCallbacks} (the guard and the deferred callbacks), {@link OutboundTable} (connections and pools).
 */
public final class OutboundConnections
{
    /** Events for {@link #tell}, one per {@link OutboundPoolListener} method. */
    static final int OPENED = 0;
    static final int IDLE = 1;
    static final int REUSED = 2;
    static final int CLOSED = 3;

    private final WorkerTransport transport;
    private final OutboundOptions options;
    private final OutboundCounters counters = new OutboundCounters();
    private final OutboundTable table;
    private final OutboundLifecycle lifecycle;
    private final OutboundIo io;
    private final OutboundCallbacks callbacks;
    /** Rarely more than one (one per proxy routed on the server); written on the worker thread only. */
    private OutboundPoolListener[] listeners = new OutboundPoolListener[0];

    OutboundConnections(final WorkerTransport transport, final OutboundOptions options, final WorkerTimers timers,
        final Selector selector)
    {
        this.transport = transport;
        this.options = options;
        this.table = new OutboundTable(options.maxUpstreams());
        this.lifecycle = new OutboundLifecycle(this, options, timers, selector, counters, table);
        this.io = new OutboundIo(this, counters, options);
        this.callbacks = new OutboundCallbacks(this);
    }

    /**
     * Leases a connection to {@code upstream} for one exchange: the most recently released idle one in
     * this worker's pool if there is a usable one (a pool hit: {@link OutboundConnection#reused()} is
     * true), else a new one, connecting without blocking. Either way {@code handler} hears of it later in
     * this turn, never inside this call: {@link OutboundHandler#onConnected} or
     * {@link OutboundHandler#onConnectFailed}. The holder may write at once; bytes written while connecting
     * are sent once connected.
     *
     * @param upstream a resolved address (a DNS lookup blocks, and does not belong on a worker)
     * @param handler  receives this lease's callbacks
     * @return the leased connection, or null if none may be opened: the upstream has
     *         {@link OutboundOptions#maxConnectionsPerUpstream} connections on this worker and none idle,
     *         {@link OutboundOptions#maxUpstreams} other addresses have connections, or the transport closed.
     *         Nothing was opened then and no callback comes; counted in {@link OutboundStats#limitRejections()}
     * @throws IllegalArgumentException if {@code upstream} is unresolved
     * @throws IllegalStateException    off this worker's thread
     */
    public OutboundConnection acquire(final InetSocketAddress upstream, final OutboundHandler handler)
    {
        checkThread("acquire()");
        Objects.requireNonNull(upstream, "acquire(null, handler): pass the upstream's address");
        Objects.requireNonNull(handler, "acquire(upstream, null): pass the OutboundHandler that receives this lease's callbacks");
        if (upstream.isUnresolved())
        {
            throw new IllegalArgumentException("acquire(" + upstream + "): the address is unresolved; resolve it first " +
                "(new InetSocketAddress(InetAddress, port)), off the worker: a DNS lookup blocks");
        }
        final UpstreamPool pool = lifecycle.isClosed() ? null : table.poolFor(upstream);
        if (pool == null)
        {
            counters.add(OutboundCounters.LIMIT_REJECTIONS, 1);
            return null;
        }
        final long now = System.nanoTime();
        OutboundConnection c;
        while ((c = pool.newest()) != null)
        {
            // The sweep runs every 50 ms: check here too, so that nothing past a limit is handed out.
            if (now - c.idleSinceNanos >= options.idleTimeoutNanos())
            {
                lifecycle.close(c, OutboundCloseCause.IDLE_TIMEOUT, OutboundLifecycle.SILENT, false);
                continue;
            }
            if (now - c.createdNanos >= options.maxLifetimeNanos())
            {
                lifecycle.close(c, OutboundCloseCause.MAX_LIFETIME, OutboundLifecycle.SILENT, false);
                continue;
            }
            pool.unlink(c);
            counters.add(OutboundCounters.IDLE, -1);
            counters.add(OutboundCounters.POOL_HITS, 1);
            tell(REUSED, pool.address, false);
            c.state = OutboundConnection.ACTIVE;
            c.startLease(handler, true);
            lifecycle.armReadTimeout(c, options.readTimeoutNanos());
            c.updateInterest();
            callbacks.notice(c, OutboundConnection.NOTICE_CONNECTED);
            return c;
        }
        if (pool.open >= options.maxConnectionsPerUpstream())
        {
            counters.add(OutboundCounters.LIMIT_REJECTIONS, 1);
            return null;
        }
        counters.add(OutboundCounters.POOL_MISSES, 1);
        return lifecycle.connect(pool, handler, now);
    }

    /**
     * Ends the lease of {@code connection}: no callback reaches its handler after this. Reusable and clean
     * (nothing unconsumed in {@code inbound()}, nothing queued to send, fewer than
     * {@link OutboundOptions#maxRequestsPerConnection} leases, younger than {@link OutboundOptions#maxLifetime},
     * the transport not closing), it goes back to the pool, where the least recently used idle connection
     * makes room if the pool is full; otherwise it closes (counted by cause). Release as reusable only after
     * a complete response that allows keep-alive. Releasing a closed connection, or a connect in progress
     * (which is abandoned), ends the lease too.
     *
     * @param connection a connection leased from this worker
     * @param reusable   false to close it (a response cut short, {@code Connection: close}, an error)
     * @throws IllegalStateException    if it is idle in the pool already (released twice), or off this worker's thread
     * @throws IllegalArgumentException if it belongs to another worker
     */
    public void release(final OutboundConnection connection, final boolean reusable)
    {
        checkThread("release()");
        Objects.requireNonNull(connection, "release(null, reusable)");
        if (connection.owner != this)
        {
            throw new IllegalArgumentException(connection + " belongs to worker " + connection.workerIndex() + ", not worker " +
                transport.workerIndex() + "; release it on the worker that acquired it");
        }
        if (connection.state == OutboundConnection.CLOSED)
        {
            connection.endLease();
            io.releaseBuffers(connection);
            return;
        }
        if (connection.state == OutboundConnection.IDLE)
        {
            throw new IllegalStateException(connection + " is idle in the pool: it was released already. Release each " +
                "lease once, and do not keep a connection after its release (it may already serve another lease).");
        }
        final boolean leased = connection.state == OutboundConnection.ACTIVE;
        connection.endLease();
        lifecycle.cancelTimer(connection);
        if (!reusable || !leased)
        {
            lifecycle.close(connection, OutboundCloseCause.CLOSED_BY_HOLDER, OutboundLifecycle.SILENT, false);
            return;
        }
        final long now = System.nanoTime();
        final OutboundCloseCause blocker = reuseBlocker(connection, now);
        if (blocker != null)
        {
            lifecycle.close(connection, blocker, OutboundLifecycle.SILENT, false);
            return;
        }
        final UpstreamPool pool = connection.pool;
        if (pool.idleCount() >= options.maxIdlePerUpstream())
        {
            final OutboundConnection oldest = pool.oldest();
            if (oldest == null)
            {
                // maxIdlePerUpstream is 0: no pooling.
                lifecycle.close(connection, OutboundCloseCause.POOL_FULL, OutboundLifecycle.SILENT, false);
                return;
            }
            lifecycle.close(oldest, OutboundCloseCause.POOL_FULL, OutboundLifecycle.SILENT, false);
        }
        connection.state = OutboundConnection.IDLE;
        connection.idleSinceNanos = now;
        connection.readingPaused = false;
        connection.writable = true;
        pool.pushNewest(connection);
        counters.add(OutboundCounters.IDLE, 1);
        tell(IDLE, pool.address, false);
        connection.updateInterest();
    }

    private OutboundCloseCause reuseBlocker(final OutboundConnection c, final long now)
    {
        if (lifecycle.isClosed() || c.inbound.readableBytes() > 0 || c.outbound.readableBytes() > 0)
        {
            return OutboundCloseCause.NOT_REUSABLE;
        }
        if (c.requests >= options.maxRequestsPerConnection())
        {
            return OutboundCloseCause.MAX_REQUESTS;
        }
        if (now - c.createdNanos >= options.maxLifetimeNanos())
        {
            return OutboundCloseCause.MAX_LIFETIME;
        }
        return null;
    }

    /**
     * Adds a listener that hears this worker's connections open, go idle, get reused and close, per
     * upstream address (a balancer's connection counts). Connections open already are not replayed:
     * add it before the first {@code acquire}.
     *
     * @param listener called on this worker's thread, inside the transport's bookkeeping
     * @throws IllegalStateException off this worker's thread
     */
    public void addListener(final OutboundPoolListener listener)
    {
        checkThread("addListener()");
        Objects.requireNonNull(listener, "addListener(null): pass an OutboundPoolListener");
        final OutboundPoolListener[] grown = Arrays.copyOf(listeners, listeners.length + 1);
        grown[listeners.length] = listener;
        listeners = grown;
    }

    /** Tells every listener, each in a guard: a listener's failure never breaks the transport's bookkeeping. */
    void tell(final int event, final InetSocketAddress upstream, final boolean wasIdle)
    {
        for (final OutboundPoolListener l : listeners)
        {
            try
            {
                switch (event)
                {
                    case OPENED -> l.connectionOpened(upstream);
                    case IDLE -> l.connectionIdle(upstream);
                    case REUSED -> l.connectionReused(upstream);
                    default -> l.connectionClosed(upstream, wasIdle);
                }
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                counters.add(OutboundCounters.HANDLER_ERRORS, 1);
                transport.logFailure("outbound pool listener " + l + " threw", ex);
            }
        }
    }

    /**
     * @param upstream an address
     * @return connections to it on this worker now: connecting, leased and idle
     */
    public int open(final InetSocketAddress upstream)
    {
        checkThread("open()");
        final UpstreamPool pool = table.find(upstream);
        return pool == null ? 0 : pool.open;
    }

    /**
     * @param upstream an address
     * @return idle connections to it in this worker's pool now
     */
    public int idle(final InetSocketAddress upstream)
    {
        checkThread("idle()");
        final UpstreamPool pool = table.find(upstream);
        return pool == null ? 0 : pool.idleCount();
    }

    /**
     * @return the index of the owning worker; any thread
     */
    public int workerIndex()
    {
        return transport.workerIndex();
    }

    @Override
    public String toString()
    {
        return "outbound connections of worker " + transport.workerIndex();
    }

    // ------------------------------------------------------------------ for WorkerTransport

    void onKey(final SelectionKey key, final OutboundConnection c)
    {
        io.onKey(key, c);
    }

    /** Delivers deferred callbacks, at most those queued before this call. */
    int deliverCallbacks()
    {
        return callbacks.deliver(Integer.MAX_VALUE);
    }

    boolean hasPendingCallbacks()
    {
        return callbacks.pending();
    }

    int expireIdle(final long now)
    {
        return lifecycle.expireIdle(now);
    }

    void closeAll()
    {
        lifecycle.closeAll();
    }

    // ------------------------------------------------------------------ for the parts and OutboundConnection

    /** The holder's close() or abort(): ends the lease and closes, with no callback. */
    void closeByHolder(final OutboundConnection c, final boolean abort, final String method)
    {
        checkThread(method);
        if (c.state == OutboundConnection.CLOSED)
        {
            c.endLease();
            io.releaseBuffers(c);
            return;
        }
        checkHeld(c, method);
        c.endLease();
        lifecycle.close(c, OutboundCloseCause.CLOSED_BY_HOLDER, OutboundLifecycle.SILENT, abort);
    }

    void armReadTimeout(final OutboundConnection c, final long timeoutNanos)
    {
        lifecycle.armReadTimeout(c, timeoutNanos);
    }

    void timerFired(final OutboundConnection c, final long firedId, final long nowNanos)
    {
        lifecycle.timerFired(c, firedId, nowNanos);
    }

    void flush(final OutboundConnection c, final boolean fromLoop)
    {
        io.flush(c, fromLoop);
    }

    void checkThread(final String method)
    {
        if (Thread.currentThread() != transport.thread())
        {
            throw new IllegalStateException("outbound " + method + " called on " + Thread.currentThread().getName() +
                " but these outbound connections belong to " + transport.thread().getName() + "; call it from code " +
                "running on worker " + transport.workerIndex() + " (a stage placed with Placement.onWorker, or a callback of " +
                "that worker's connections)");
        }
    }

    /** Fails fast on the owner's thread unless {@code c} is leased or connecting (not idle in the pool). */
    void checkHeld(final OutboundConnection c, final String method)
    {
        checkThread(method);
        if (c.state == OutboundConnection.IDLE)
        {
            throw new IllegalStateException(method + " on " + c + ": it was released to the pool and is no longer yours. " +
                "Keep a connection only from acquire() until release(), close(), abort(), onConnectFailed or onClosed.");
        }
    }

    BufferAllocator allocator()
    {
        return transport.allocator();
    }

    int maxInboundBytes()
    {
        return options.maxInboundBytes();
    }

    OutboundCounters counters()
    {
        return counters;
    }

    OutboundLifecycle lifecycle()
    {
        return lifecycle;
    }

    OutboundIo io()
    {
        return io;
    }

    OutboundCallbacks callbacks()
    {
        return callbacks;
    }

    WorkerTransport transport()
    {
        return transport;
    }
}
