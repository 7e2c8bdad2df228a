package io.millrace.net;

import java.net.InetSocketAddress;

/**
 * Hears how one worker's connections to each upstream address open, go idle, are reused and close,
 * so that something outside the transport (the balancer's circuit breakers: {@code max-conns}) can
 * count them without a second bookkeeping of its own. Registered per worker with
 * {@link OutboundConnections#addListener}.
 *
 * <p>Threading: called on the owning worker's thread, synchronously, inside the transport's own
 * bookkeeping (an {@code acquire}, a {@code release}, a close, the idle sweep): count, and do not call
 * back into the transport. A listener that throws is counted in {@link OutboundStats#handlerErrors()}
 * and logged; the transport's state is not affected.
 */
public interface OutboundPoolListener
{
    /** A new connection to {@code upstream} was opened for a lease (its connect starts now). */
    void connectionOpened(InetSocketAddress upstream);

    /** A connection to {@code upstream} went back to the pool, idle. */
    void connectionIdle(InetSocketAddress upstream);

    /** An idle pooled connection to {@code upstream} was leased again. */
    void connectionReused(InetSocketAddress upstream);

    /**
     * A connection to {@code upstream} closed (a failed or abandoned connect too), whatever the cause.
     *
     * @param wasIdle true if it was idle in the pool when it closed
     */
    void connectionClosed(InetSocketAddress upstream, boolean wasIdle);
}
