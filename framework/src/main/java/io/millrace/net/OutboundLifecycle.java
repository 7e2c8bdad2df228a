package io.millrace.net;

import io.millrace.stage.WorkerTimers;
import io.millrace.worker.Fatal;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.StandardSocketOptions;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Locale;

/**
 * The state changes of one worker's outbound connections: connecting, connected, failed, closed (by
 * cause), expired in the pool, closed at shutdown; and their one timer each (the connect timeout, then
 * the read timeout), on the worker's {@link WorkerTimers}. Every close goes through {@link #close},
 * which counts it once and tells the holder (if the lease is still on) once.
 *
 * <p>How a holder is told, {@code notify}: {@link #NOW} from the transport's own loop (a ready key, a
 * timer), {@link #LATER} when the cause arose inside a call the handler made (queued for the next
 * delivery), {@link #SILENT} when there is no one to tell (the holder closed or released it, or it was idle).
 *
 * <p>Threading: owned by the worker thread; nothing here is shared.
 */
final class OutboundLifecycle
{
    static final int NOW = 0;
    static final int LATER = 1;
    static final int SILENT = 2;

    private final OutboundConnections owner;
    private final OutboundOptions options;
    private final WorkerTimers timers;
    private final Selector selector;
    private final OutboundCounters counters;
    private final OutboundTable table;
    private boolean closed;

    OutboundLifecycle(final OutboundConnections owner, final OutboundOptions options, final WorkerTimers timers,
        final Selector selector, final OutboundCounters counters, final OutboundTable table)
    {
        this.owner = owner;
        this.options = options;
        this.timers = timers;
        this.selector = selector;
        this.counters = counters;
        this.table = table;
    }

    boolean isClosed()
    {
        return closed;
    }

    // ------------------------------------------------------------------ connecting

    /** Opens a socket to {@code pool}'s address and starts a non-blocking connect, leased to {@code handler}. */
    OutboundConnection connect(final UpstreamPool pool, final OutboundHandler handler, final long now)
    {
        counters.add(OutboundCounters.CONNECTS, 1);
        SocketChannel channel = null;
        Exception openFailure = null;
        try
        {
            channel = SocketChannel.open();
        }
        catch (final IOException ex)
        {
            openFailure = ex; // typically out of file descriptors: reported like any failed connect
        }
        final OutboundConnection c = new OutboundConnection(owner, channel, owner.transport().nextConnectionId(), pool, now);
        c.state = OutboundConnection.CONNECTING;
        c.startLease(handler, false);
        c.readTimeoutNanos = options.readTimeoutNanos();
        table.add(c);
        counters.add(OutboundCounters.OPEN, 1);
        owner.tell(OutboundConnections.OPENED, pool.address, false);
        if (channel == null)
        {
            failConnect(c, ConnectFailure.ERROR, openFailure, LATER);
            return c;
        }
        try
        {
            channel.configureBlocking(false);
            configure(channel);
            final boolean connectedAtOnce = channel.connect(pool.address);
            c.key = channel.register(selector, 0, c);
            if (connectedAtOnce)
            {
                connected(c, LATER);
            }
            else
            {
                c.updateInterest();
                scheduleTimer(c, saturatedAdd(System.nanoTime(), options.connectTimeoutNanos()));
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            failConnect(c, classify(ex), ex, LATER);
        }
        return c;
    }

    private void configure(final SocketChannel channel) throws IOException
    {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, options.tcpNoDelay());
        if (options.receiveBufferSize() > 0)
        {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, options.receiveBufferSize());
        }
        if (options.sendBufferSize() > 0)
        {
            channel.setOption(StandardSocketOptions.SO_SNDBUF, options.sendBufferSize());
        }
    }

    /** The connect completed: the read timeout starts, output queued meanwhile goes out, the holder is told. */
    void connected(final OutboundConnection c, final int notify)
    {
        cancelTimer(c);
        c.state = OutboundConnection.ACTIVE;
        counters.add(OutboundCounters.CONNECTED, 1);
        armReadTimeout(c, c.readTimeoutNanos);
        c.updateInterest();
        // Deferred, so that the holder hears onConnected before a drain or a failure of this first write.
        owner.io().flush(c, false);
        if (c.state != OutboundConnection.ACTIVE)
        {
            return; // the first write failed; onClosed is queued for the holder
        }
        owner.callbacks().notice(c, OutboundConnection.NOTICE_CONNECTED);
        if (notify == NOW)
        {
            owner.callbacks().deliver(c); // connected, then writable if the write drained
        }
    }

    /** The connect failed: the socket closes and the failure is counted (failed connects are not "closed") and told. */
    void failConnect(final OutboundConnection c, final ConnectFailure cause, final Exception detail, final int notify)
    {
        if (c.state == OutboundConnection.CLOSED)
        {
            return;
        }
        teardown(c, false);
        counters.failure(cause);
        if (c.handler == null || notify == SILENT)
        {
            c.endLease();
            owner.io().releaseBuffers(c);
            return;
        }
        c.failure = cause;
        c.failureDetail = detail;
        if (notify == NOW)
        {
            owner.callbacks().connectFailed(c);
        }
        else
        {
            owner.callbacks().notice(c, OutboundConnection.NOTICE_CONNECT_FAILED);
        }
    }

    static ConnectFailure classify(final Throwable ex)
    {
        final String message = String.valueOf(ex.getMessage()).toLowerCase(Locale.ROOT);
        if (ex instanceof NoRouteToHostException || message.contains("unreachable"))
        {
            return ConnectFailure.UNREACHABLE;
        }
        if (ex instanceof ConnectException)
        {
            return message.contains("timed out") ? ConnectFailure.TIMEOUT : ConnectFailure.REFUSED;
        }
        return ConnectFailure.ERROR;
    }

    // ------------------------------------------------------------------ timers

    /** Arms (or with 0 disarms) {@code c}'s read timeout from now; the timer moves only if it would fire too late. */
    void armReadTimeout(final OutboundConnection c, final long timeoutNanos)
    {
        c.readTimeoutNanos = timeoutNanos;
        if (c.state != OutboundConnection.ACTIVE)
        {
            return; // connecting: armed once connected
        }
        if (timeoutNanos == 0)
        {
            cancelTimer(c);
            return;
        }
        c.readDeadlineNanos = saturatedAdd(System.nanoTime(), timeoutNanos);
        if (c.timerId == 0 || c.timerDeadlineNanos - c.readDeadlineNanos > 0)
        {
            cancelTimer(c);
            scheduleTimer(c, c.readDeadlineNanos);
        }
    }

    /**
     * {@code c}'s timer fired: a connect that took too long fails; a read deadline that reads moved on (or
     * that passed while reading was paused) is re-armed; one that truly passed closes the connection. A
     * read costs a store of the new deadline, never a timer operation.
     */
    void timerFired(final OutboundConnection c, final long firedId, final long nowNanos)
    {
        if (firedId != c.timerId)
        {
            return; // cancelled timers never fire; this only guards against a timer of an earlier state
        }
        c.timerId = 0;
        if (c.state == OutboundConnection.CONNECTING)
        {
            failConnect(c, ConnectFailure.TIMEOUT, null, NOW);
        }
        else if (c.state == OutboundConnection.ACTIVE && c.readTimeoutNanos > 0)
        {
            if (c.readBlocked())
            {
                // We stopped reading, not the upstream: the clock starts over.
                c.readDeadlineNanos = saturatedAdd(nowNanos, c.readTimeoutNanos);
                scheduleTimer(c, c.readDeadlineNanos);
            }
            else if (nowNanos - c.readDeadlineNanos < 0)
            {
                scheduleTimer(c, c.readDeadlineNanos);
            }
            else
            {
                close(c, OutboundCloseCause.READ_TIMEOUT, NOW, false);
            }
        }
    }

    private void scheduleTimer(final OutboundConnection c, final long deadlineNanos)
    {
        c.timerDeadlineNanos = deadlineNanos;
        c.timerId = timers.schedule(deadlineNanos, c.timer);
    }

    void cancelTimer(final OutboundConnection c)
    {
        if (c.timerId != 0)
        {
            timers.cancel(c.timerId);
            c.timerId = 0;
        }
    }

    static long saturatedAdd(final long now, final long delta)
    {
        final long sum = now + delta;
        return delta > 0 && sum < now ? Long.MAX_VALUE : sum;
    }

    // ------------------------------------------------------------------ closing

    /**
     * Closes {@code c} and counts why; a connect in progress fails instead. If its lease is still on and
     * {@code notify} is not SILENT, the holder hears {@code onClosed}; the buffers are released after
     * that, so that the holder can still read the last bytes.
     */
    void close(final OutboundConnection c, final OutboundCloseCause cause, final int notify, final boolean abort)
    {
        if (c.state == OutboundConnection.CLOSED)
        {
            return;
        }
        if (c.state == OutboundConnection.CONNECTING)
        {
            if (cause == OutboundCloseCause.CLOSED_BY_HOLDER)
            {
                // An abandoned connect: no failure of the upstream's, so counted as a close.
                teardown(c, abort);
                counters.close(cause);
                c.endLease();
                owner.io().releaseBuffers(c);
                return;
            }
            failConnect(c, cause == OutboundCloseCause.SHUTDOWN ? ConnectFailure.SHUTDOWN : ConnectFailure.ERROR, null, notify);
            return;
        }
        final boolean wasLeased = c.state == OutboundConnection.ACTIVE;
        teardown(c, abort);
        counters.close(cause);
        final boolean stale = wasLeased && c.reused && c.bytesReceived == 0 &&
            (cause == OutboundCloseCause.PEER_CLOSED || cause == OutboundCloseCause.IO_ERROR);
        if (stale)
        {
            counters.add(OutboundCounters.STALE_REUSES, 1);
        }
        if (!wasLeased || c.handler == null || notify == SILENT)
        {
            c.endLease();
            owner.io().releaseBuffers(c);
            return;
        }
        c.closeCause = cause;
        c.staleReuse = stale;
        if (notify == NOW)
        {
            owner.callbacks().closed(c);
        }
        else
        {
            owner.callbacks().notice(c, OutboundConnection.NOTICE_CLOSED);
        }
    }

    /** Takes {@code c} out of every structure and closes its socket; the buffers stay for the holder. */
    private void teardown(final OutboundConnection c, final boolean abort)
    {
        final boolean wasIdle = c.state == OutboundConnection.IDLE;
        if (wasIdle)
        {
            c.pool.unlink(c);
            counters.add(OutboundCounters.IDLE, -1);
        }
        c.state = OutboundConnection.CLOSED;
        cancelTimer(c);
        if (c.key != null)
        {
            c.key.cancel();
        }
        if (c.channel != null)
        {
            if (abort)
            {
                try
                {
                    c.channel.setOption(StandardSocketOptions.SO_LINGER, 0); // the close then sends a reset
                }
                catch (final IOException | RuntimeException ignored)
                {
                    // Already broken: a plain close is all that is left.
                }
            }
            WorkerTransport.closeQuietly(c.channel);
        }
        table.remove(c);
        counters.add(OutboundCounters.OPEN, -1);
        counters.add(OutboundCounters.PENDING_OUTPUT, -c.recordedPending);
        c.recordedPending = 0;
        owner.tell(OutboundConnections.CLOSED, c.pool.address, wasIdle);
    }

    /** Closes pooled connections past the idle timeout or their lifetime and forgets empty pools; every 50 ms. */
    int expireIdle(final long now)
    {
        int expired = 0;
        for (int i = table.poolCount() - 1; i >= 0; i--)
        {
            final UpstreamPool pool = table.pool(i);
            OutboundConnection c = pool.oldest();
            while (c != null)
            {
                final OutboundConnection newer = c.newerIdle;
                if (now - c.idleSinceNanos >= options.idleTimeoutNanos())
                {
                    close(c, OutboundCloseCause.IDLE_TIMEOUT, SILENT, false);
                    expired++;
                }
                else if (now - c.createdNanos >= options.maxLifetimeNanos())
                {
                    close(c, OutboundCloseCause.MAX_LIFETIME, SILENT, false);
                    expired++;
                }
                c = newer;
            }
            if (pool.open == 0)
            {
                table.removePool(pool); // swaps the last pool into slot i, one already swept
            }
        }
        return expired;
    }

    /**
     * Closes every connection at shutdown: holders hear {@link ConnectFailure#SHUTDOWN} or
     * {@link OutboundCloseCause#SHUTDOWN}; from now on acquire returns null and nothing is pooled.
     * Worker thread, after its loop.
     */
    void closeAll()
    {
        closed = true;
        Throwable fatal = null;
        // Every turn takes one connection out of the table, and acquire adds none now, so this ends
        // whatever a handler does.
        while (table.size() > 0)
        {
            final OutboundConnection c = table.last();
            try
            {
                close(c, OutboundCloseCause.SHUTDOWN, NOW, false);
            }
            catch (final Throwable ex)
            {
                if (Fatal.isFatal(ex))
                {
                    fatal = fatal == null ? ex : fatal;
                }
                else
                {
                    owner.transport().logFailure("closing " + c + " at shutdown failed", ex);
                }
            }
            table.remove(c); // a no-op after a normal close
        }
        // Closes whose callbacks were deferred (a write that failed) are told now, and their buffers released.
        owner.callbacks().deliver(Integer.MAX_VALUE);
        if (fatal != null)
        {
            Fatal.rethrowIfFatal(fatal);
        }
    }
}
