package io.millrace.net;

import io.millrace.worker.Fatal;

import java.util.ArrayDeque;

/**
 * Runs {@link OutboundHandler} callbacks inside the guard, at once or deferred. A callback that throws
 * is counted, logged (rate-limited, with its stack trace) and closes only its connection; the worker
 * goes on. Deferred callbacks are those whose cause arose inside a call the handler made (an acquire
 * served from the pool, a connect that failed at once, a write that failed or drained): they wait in a
 * queue that the transport's poll delivers, so a handler is never re-entered from its own call.
 *
 * <p>Threading: owned by the worker thread. The queue holds each connection at most once (its
 * {@code queued} flag), so it is bounded by the open connections plus those closed and awaiting their
 * last callback.
 */
final class OutboundCallbacks
{
    static final int ON_CONNECTED = 0;
    static final int ON_DATA = 1;
    static final int ON_WRITABLE = 2;

    private final OutboundConnections owner;
    private final ArrayDeque<OutboundConnection> queue = new ArrayDeque<>();

    OutboundCallbacks(final OutboundConnections owner)
    {
        this.owner = owner;
    }

    /**
     * Calls one of the lease's callbacks in the guard.
     *
     * @return false if it threw: the connection is then closed (and its holder told so)
     */
    boolean call(final OutboundConnection c, final int which)
    {
        final OutboundHandler h = c.handler;
        if (h == null)
        {
            return true; // released (or closed by its holder) in an earlier callback of this turn
        }
        final int lease = c.requests;
        try
        {
            switch (which)
            {
                case ON_CONNECTED -> h.onConnected(c);
                case ON_DATA -> h.onData(c);
                default -> h.onWritable(c);
            }
            return true;
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            owner.counters().add(OutboundCounters.HANDLER_ERRORS, 1);
            final String name = which == ON_CONNECTED ? "onConnected" : which == ON_DATA ? "onData" : "onWritable";
            owner.transport().logFailure(name + " of " + c + " threw; closing it", ex);
            // Only if the lease that threw still holds it: a handler that released the connection and
            // then threw must not close what may already serve someone else.
            if (c.handler == h && c.requests == lease)
            {
                owner.lifecycle().close(c, OutboundCloseCause.HANDLER_ERROR, OutboundLifecycle.NOW, false);
            }
            return false;
        }
    }

    /** Queues {@code what} (a NOTICE bit) for {@code c}'s holder. */
    void notice(final OutboundConnection c, final int what)
    {
        c.notices |= what;
        if (!c.queued)
        {
            c.queued = true;
            queue.add(c);
        }
    }

    boolean pending()
    {
        return !queue.isEmpty();
    }

    /**
     * Delivers what was queued before this call, at most {@code max} connections' worth; callbacks
     * queued meanwhile wait for the next poll, so a handler that acquires again in every failure
     * callback cannot hold the worker here.
     *
     * @return connections whose callbacks ran
     */
    int deliver(final int max)
    {
        int delivered = 0;
        for (int n = Math.min(max, queue.size()); n > 0; n--)
        {
            final OutboundConnection c = queue.poll();
            c.queued = false;
            if (c.notices != 0)
            {
                deliver(c);
                delivered++;
            }
        }
        return delivered;
    }

    /** Runs {@code c}'s pending callbacks in order: connected, writable, then the end of the lease. */
    void deliver(final OutboundConnection c)
    {
        final int n = c.notices;
        c.notices = 0;
        if ((n & OutboundConnection.NOTICE_CONNECT_FAILED) != 0)
        {
            connectFailed(c);
            return;
        }
        final OutboundHandler h = c.handler;
        if ((n & OutboundConnection.NOTICE_CONNECTED) != 0 && c.state == OutboundConnection.ACTIVE && !call(c, ON_CONNECTED))
        {
            return;
        }
        if ((n & OutboundConnection.NOTICE_WRITABLE) != 0 && c.state == OutboundConnection.ACTIVE && c.handler == h &&
            c.writable && !call(c, ON_WRITABLE))
        {
            return;
        }
        if ((n & OutboundConnection.NOTICE_CLOSED) != 0 && c.handler == h)
        {
            closed(c);
        }
    }

    /** Tells the holder its connect failed, ends the lease and releases the buffers. */
    void connectFailed(final OutboundConnection c)
    {
        final OutboundHandler h = c.handler;
        final ConnectFailure cause = c.failure;
        final Exception detail = c.failureDetail;
        c.endLease();
        if (h != null)
        {
            try
            {
                h.onConnectFailed(c, cause, detail);
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                owner.counters().add(OutboundCounters.HANDLER_ERRORS, 1);
                owner.transport().logFailure("onConnectFailed of " + c + " threw", ex);
            }
        }
        owner.io().releaseBuffers(c);
    }

    /** Tells the holder its connection closed (inbound still readable), ends the lease and releases the buffers. */
    void closed(final OutboundConnection c)
    {
        final OutboundHandler h = c.handler;
        if (h != null)
        {
            try
            {
                h.onClosed(c, c.closeCause, c.staleReuse);
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                owner.counters().add(OutboundCounters.HANDLER_ERRORS, 1);
                owner.transport().logFailure("onClosed of " + c + " threw", ex);
            }
        }
        c.endLease();
        owner.io().releaseBuffers(c);
    }
}
