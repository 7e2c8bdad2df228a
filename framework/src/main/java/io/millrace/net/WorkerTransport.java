package io.millrace.net;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.SlabExhaustedException;
import io.millrace.stage.WorkerTimers;
import io.millrace.worker.Fatal;
import io.millrace.worker.WorkerIo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One worker's share of a {@link TcpServer}: its selector, its listening socket (with
 * {@code SO_REUSEPORT}, so the kernel spreads connections over the workers and no thread hands a
 * connection to another), its connections and their timeouts, and its {@link OutboundConnections}
 * (connections this worker opens to upstreams, polled in the same selector).
 *
 * <p>Threading: owned by one worker thread, which alone calls {@link #poll()}, {@link #park(long)}
 * and {@link #close()} and runs every handler callback. Other threads touch only
 * {@link #wakeup()}, {@link #stopIntake()} (a volatile flag) and, without {@code SO_REUSEPORT}, the
 * hand-off queue through which the accepting worker passes channels ({@link #handOff}). The
 * {@link Acceptor} brings channels in; the {@link ConnectionTable} holds the open ones; the
 * server's {@link ConnectionLimit}, shared by all workers, admits them; the {@link Refusal} turns
 * away the rest.
 */
final class WorkerTransport implements WorkerIo
{
    private static final Logger LOG = LoggerFactory.getLogger(WorkerTransport.class);
    private static final long TIMER_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final TcpServer server;
    private final int workerIndex;
    private final Thread thread;
    private final BufferAllocator allocator;
    private final Selector selector;
    private final Acceptor acceptor;
    private final TransportCounters counters = new TransportCounters();
    private final Consumer<SelectionKey> onKey = this::onKey;
    private final ConnectionLimit limit;
    private final Refusal refusal;
    private final ConnectionTable connections = new ConnectionTable();
    private final OutboundConnections outbound;
    private long now;
    private long nextTimerNanos;
    private long lastErrorLogNanos;
    private long suppressedLogs;
    private int nextTarget;
    private volatile boolean intakeStopped;

    WorkerTransport(final TcpServer server, final int workerIndex, final Thread thread, final BufferAllocator allocator,
        final WorkerTimers timers, final ServerSocketChannel listener, final int handOffCapacity) throws IOException
    {
        this.server = server;
        this.workerIndex = workerIndex;
        this.thread = thread;
        this.allocator = allocator;
        this.limit = server.connectionLimit();
        this.refusal = server.newRefusal();
        this.selector = Selector.open();
        this.acceptor = new Acceptor(this, server, selector, listener, handOffCapacity);
        this.outbound = new OutboundConnections(this, server.outboundOptions(), timers, selector);
        this.now = System.nanoTime();
        // Not 0: System.nanoTime() may be negative, and "now - 0 >= 0" would then hold off every
        // timeout until the clock turned positive.
        this.nextTimerNanos = now + TIMER_PERIOD_NANOS;
    }

    // ------------------------------------------------------------------ WorkerIo

    @Override
    public int poll()
    {
        now = System.nanoTime();
        int work = intake();
        // Outbound callbacks that stages deferred (a pooled lease, a connect that failed at once) run
        // before the selector's news of the same connections, and those deferred meanwhile right after.
        work += outbound.deliverCallbacks();
        try
        {
            work += selector.selectNow(onKey);
        }
        catch (final IOException ex)
        {
            logError("selectNow failed", ex);
        }
        work += outbound.deliverCallbacks();
        if (now - nextTimerNanos >= 0)
        {
            // The one O(connections) scan, once per period whatever the traffic.
            nextTimerNanos = now + TIMER_PERIOD_NANOS;
            work += connections.expire(now, server.idleTimeoutNanos(), this);
            work += outbound.expireIdle(now);
        }
        if (outbound.hasPendingCallbacks())
        {
            work++; // queued by the last delivery: the worker must not park on them
        }
        return work;
    }

    @Override
    public void park(final long maxNanos)
    {
        try
        {
            selector.select(onKey, Math.max(1, TimeUnit.NANOSECONDS.toMillis(maxNanos)));
        }
        catch (final IOException ex)
        {
            logError("select failed", ex);
        }
    }

    @Override
    public void wakeup()
    {
        selector.wakeup();
    }

    @Override
    public void stopIntake()
    {
        intakeStopped = true;
        selector.wakeup();
    }

    @Override
    public void close()
    {
        acceptor.closeListener();
        Throwable fatal = null;
        try
        {
            outbound.closeAll();
        }
        catch (final Throwable ex)
        {
            if (Fatal.isFatal(ex))
            {
                fatal = ex; // thrown once the accepted connections and the selector are closed too
            }
            else
            {
                logFailure("closing the outbound connections at shutdown failed", ex);
            }
        }
        // Every turn takes one connection out of the table, so this loop ends whatever close(c)
        // does; a fatal error from one connection waits until the others and the selector are closed.
        while (connections.size() > 0)
        {
            final Connection c = connections.last();
            try
            {
                close(c, 0);
            }
            catch (final Throwable ex)
            {
                if (Fatal.isFatal(ex))
                {
                    fatal = fatal == null ? ex : fatal;
                }
                else
                {
                    logFailure("closing " + c + " at shutdown failed", ex);
                }
            }
            connections.remove(c); // a no-op after a normal close(c), which removed it first
        }
        acceptor.closePending();
        try
        {
            selector.close();
        }
        catch (final IOException ex)
        {
            logError("closing the selector failed", ex);
        }
        if (fatal != null)
        {
            Fatal.rethrowIfFatal(fatal);
        }
    }

    // ------------------------------------------------------------------ accepting

    private int intake()
    {
        if (intakeStopped)
        {
            acceptor.closeListener();
        }
        acceptor.rearmIfDue(now);
        return acceptor.takeHandOffs();
    }

    /** Without SO_REUSEPORT: the accepting worker passes a channel to another worker. Any thread. */
    boolean handOff(final SocketChannel channel)
    {
        return acceptor.handOff(channel);
    }

    /**
     * Takes {@code channel} as a connection of this worker, or refuses it when the server is at its
     * connection limit or stopping. The slot taken here is the registration's until the connection
     * enters the table, and the connection's from then on ({@link Connection#holdsSlot}).
     */
    void register(final SocketChannel channel)
    {
        if (intakeStopped || !limit.tryAcquire())
        {
            refuse(channel);
            return;
        }
        Connection connection = null;
        try
        {
            channel.configureBlocking(false);
            server.configure(channel);
            connection = new Connection(this, channel, server.nextConnectionId(), channel.getRemoteAddress());
            connection.register(channel.register(selector, 0, connection));
        }
        catch (final Throwable ex)
        {
            // Not in the table yet, so close(connection) would not see it: undo here what was taken,
            // the slot, the socket and, once the connection was made, its two chains. Fatal errors
            // too, first. A plain close, no refusal message: this socket just failed.
            limit.release();
            counters.add(TransportCounters.REFUSED, 1);
            closeQuietly(channel);
            final Throwable releaseFailure = connection != null ? connection.releaseAll() : null;
            Fatal.rethrowIfFatal(ex);
            if (releaseFailure != null)
            {
                Fatal.rethrowIfFatal(releaseFailure);
                ex.addSuppressed(releaseFailure);
            }
            if (ex instanceof IOException)
            {
                logError("could not register an accepted connection", ex); // the peer or the OS: one line
            }
            else
            {
                logFailure("could not register an accepted connection", ex); // unexpected: with the stack trace
            }
            return;
        }
        connections.add(connection);
        connection.holdsSlot = true;
        connection.lastActivityNanos = now;
        counters.add(TransportCounters.ACCEPTED, 1);
        counters.add(TransportCounters.OPEN, 1);
        try
        {
            server.handler().onOpen(connection);
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            handlerFailed(connection, "onOpen", ex);
        }
    }

    /** Turns {@code channel} away (over the limit, or stopping): counted, told why if configured, closed. */
    void refuse(final SocketChannel channel)
    {
        // Count before the peer can see the close, so that whoever reacts to it sees the counters.
        counters.add(TransportCounters.REFUSED, 1);
        refusal.refuse(channel);
    }

    // ------------------------------------------------------------------ I/O events

    private void onKey(final SelectionKey key)
    {
        final Object attachment = key.attachment();
        if (attachment instanceof OutboundConnection upstream)
        {
            outbound.onKey(key, upstream);
            return;
        }
        if (acceptor.isListener(attachment))
        {
            if (key.isValid() && key.isAcceptable())
            {
                acceptor.accept();
            }
            return;
        }
        final Connection connection = (Connection)attachment;
        try
        {
            onReady(key, connection);
        }
        catch (final Throwable ex)
        {
            // Handler callbacks contain their own errors; this is the transport failing on one
            // connection (a bug, or a JDK surprise). Shed that connection, keep the worker.
            Fatal.rethrowIfFatal(ex);
            logFailure("handling a ready key of " + connection + " failed; closing it", ex);
            close(connection, TransportCounters.IO_ERRORS);
        }
    }

    private void onReady(final SelectionKey key, final Connection connection)
    {
        if (!key.isValid() || !connection.isOpen())
        {
            return;
        }
        if (key.isWritable())
        {
            connection.flush();
            if (!connection.isOpen())
            {
                return;
            }
        }
        if (key.isReadable())
        {
            read(connection);
        }
    }

    private void read(final Connection connection)
    {
        try
        {
            final long n = connection.onReadable(server.maxInboundBytes());
            if (n < 0)
            {
                inputEnded(connection);
                return;
            }
        }
        catch (final IOException ex)
        {
            close(connection, TransportCounters.IO_ERRORS);
            return;
        }
        catch (final SlabExhaustedException ex)
        {
            // No chunk for this connection's bytes: shed it rather than grow memory.
            logError("out of buffers; closing " + connection, ex);
            close(connection, TransportCounters.IO_ERRORS);
            return;
        }
        try
        {
            server.handler().onRead(connection);
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            handlerFailed(connection, "onRead", ex);
            return;
        }
        connection.updateInterest();
    }

    // ------------------------------------------------------------------ closing

    /** Closes {@code c} and counts why ({@code reason} is a counter index, or 0 for a plain close). */
    void close(final Connection c, final int reason)
    {
        if (!c.isOpen())
        {
            return;
        }
        // The slot first, before anything below can fail: a connection closing is no longer one the
        // limit must count, and clearing holdsSlot makes this the one release however close() is re-entered.
        if (c.holdsSlot)
        {
            c.holdsSlot = false;
            limit.release();
        }
        // Count before the peer can see the close, so that whoever reacts to it sees the counters.
        counters.add(TransportCounters.OPEN, -1);
        counters.add(TransportCounters.CLOSED, 1);
        if (reason != 0)
        {
            counters.add(reason, 1);
        }
        // Out of the table first: whatever fails below, the timeout sweep and the shutdown loop
        // must never meet a closed connection there again (the shutdown loop would spin on it).
        connections.remove(c);
        final Throwable releaseFailure = c.releaseAll();
        closeQuietly(c.channel());
        if (releaseFailure != null)
        {
            Fatal.rethrowIfFatal(releaseFailure);
            logFailure("releasing the buffers of " + c + " failed; the connection is closed anyway (did a handler release " +
                "a chain the connection owns, such as inbound()? release only what you removed from it)", releaseFailure);
        }
        try
        {
            server.handler().onClose(c);
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            counters.add(TransportCounters.HANDLER_ERRORS, 1);
            logFailure("onClose of " + c + " threw", ex);
        }
    }

    /**
     * {@code c}'s read deadline passed: counts it, disarms the deadline and lets the handler decide;
     * closes the connection if the handler left it open with nothing to end it.
     */
    void readTimedOut(final Connection c)
    {
        counters.add(TransportCounters.READ_TIMEOUTS, 1);
        c.readDeadlineNanos = 0; // disarmed first, so the handler may arm a new one
        try
        {
            server.handler().onReadTimeout(c);
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            handlerFailed(c, "onReadTimeout", ex);
            return;
        }
        if (c.isOpen() && !c.closing() && c.readDeadlineNanos == 0)
        {
            // Neither closed, nor closing after flush, nor given more time: with the idle timeout off
            // or the connection marked processing, nothing else would ever end it.
            close(c, 0);
        }
    }

    private void inputEnded(final Connection connection)
    {
        if (connection.inbound().readableBytes() > 0)
        {
            try
            {
                server.handler().onRead(connection);
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                handlerFailed(connection, "onRead", ex);
                return;
            }
        }
        if (connection.isOpen())
        {
            try
            {
                server.handler().onInputEnded(connection);
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                handlerFailed(connection, "onInputEnded", ex);
            }
        }
    }

    /** Tells the handler that {@code c}'s queued output fell below the cap. */
    void drained(final Connection c)
    {
        try
        {
            server.handler().onWritable(c);
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            handlerFailed(c, "onWritable", ex);
        }
    }

    /** A callback threw something contained: shed that connection only. */
    private void handlerFailed(final Connection c, final String callback, final Throwable ex)
    {
        logFailure(callback + " of " + c + " threw; closing it", ex);
        close(c, TransportCounters.HANDLER_ERRORS);
    }

    static void closeQuietly(final java.nio.channels.Channel channel)
    {
        try
        {
            channel.close();
        }
        catch (final IOException ignored)
        {
            // Closing is best effort; the descriptor is gone either way.
        }
    }

    /** Logs an expected kind of failure (a peer, the OS) in one line, rate-limited. */
    void logError(final String what, final Throwable ex)
    {
        log(what, ex, false);
    }

    /** Logs a bug (a handler's, or ours) with its stack trace, which is what fixing it takes; rate-limited. */
    void logFailure(final String what, final Throwable ex)
    {
        log(what, ex, true);
    }

    private void log(final String what, final Throwable ex, final boolean withStackTrace)
    {
        // At most one line per second per worker: a flood of bad peers must not flood the log.
        final long t = System.nanoTime();
        if (lastErrorLogNanos == 0 || t - lastErrorLogNanos >= TimeUnit.SECONDS.toNanos(1))
        {
            lastErrorLogNanos = t;
            final long skipped = suppressedLogs;
            suppressedLogs = 0;
            if (withStackTrace)
            {
                LOG.warn("{} (worker {}; {} similar lines suppressed)", what, workerIndex, skipped, ex);
            }
            else
            {
                LOG.warn("{} (worker {}; {} similar lines suppressed): {}", what, workerIndex, skipped, ex.toString());
            }
        }
        else
        {
            suppressedLogs++;
        }
    }

    // ------------------------------------------------------------------ for Connection and TcpServer

    void checkThread(final String method)
    {
        if (Thread.currentThread() != thread)
        {
            throw new IllegalStateException("Connection." + method + " called on " + Thread.currentThread().getName() +
                " but the connection belongs to " + thread.getName() + "; run the stage that touches it with " +
                "Placement.onWorker(r -> r.connection().workerIndex())");
        }
    }

    BufferAllocator allocator()
    {
        return allocator;
    }

    Thread thread()
    {
        return thread;
    }

    OutboundConnections outbound()
    {
        return outbound;
    }

    long nextConnectionId()
    {
        return server.nextConnectionId();
    }

    int workerIndex()
    {
        return workerIndex;
    }

    TransportCounters counters()
    {
        return counters;
    }

    long now()
    {
        return now;
    }

    int maxInboundBytes()
    {
        return server.maxInboundBytes();
    }

    long maxPendingOutputBytes()
    {
        return server.maxPendingOutputBytes();
    }

    int nextTarget(final int workers)
    {
        final int t = nextTarget;
        nextTarget = (t + 1) % workers;
        return t;
    }

    boolean hasListener()
    {
        return acceptor.hasListener();
    }
}
