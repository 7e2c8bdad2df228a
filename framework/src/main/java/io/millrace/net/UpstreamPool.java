package io.millrace.net;

import java.net.InetSocketAddress;

/**
 * One worker's connections to one upstream address: how many are open (connecting, leased or idle)
 * and the idle ones, in an intrusive list through {@link OutboundConnection#newerIdle} and
 * {@link OutboundConnection#olderIdle}, most recently released first. Taking the newest (as nginx
 * does) keeps the few connections a light load needs warm and lets the others reach the idle timeout;
 * when the pool is full, the oldest makes room. Every operation is O(1) and allocates nothing.
 *
 * <p>Threading: owned by the worker thread of its {@link OutboundConnections}; nothing here is shared.
 */
final class UpstreamPool
{
    final InetSocketAddress address;
    /** Index in {@link OutboundConnections}' list of pools, for swap-removal; -1 once removed. */
    int slot = -1;
    /** Connections to this address that are not closed: connecting, leased and idle. */
    int open;
    private int idleCount;
    private OutboundConnection newest;
    private OutboundConnection oldest;

    UpstreamPool(final InetSocketAddress address)
    {
        this.address = address;
    }

    int idleCount()
    {
        return idleCount;
    }

    /** @return the most recently released idle connection, or null */
    OutboundConnection newest()
    {
        return newest;
    }

    /** @return the least recently released idle connection, or null */
    OutboundConnection oldest()
    {
        return oldest;
    }

    /** Puts {@code c} first: it is the most recently released. */
    void pushNewest(final OutboundConnection c)
    {
        c.olderIdle = newest;
        c.newerIdle = null;
        if (newest == null)
        {
            oldest = c;
        }
        else
        {
            newest.newerIdle = c;
        }
        newest = c;
        c.inPool = true;
        idleCount++;
    }

    /** Takes {@code c} out of the idle list; it must be in it. */
    void unlink(final OutboundConnection c)
    {
        if (!c.inPool)
        {
            return;
        }
        if (c.newerIdle == null)
        {
            newest = c.olderIdle;
        }
        else
        {
            c.newerIdle.olderIdle = c.olderIdle;
        }
        if (c.olderIdle == null)
        {
            oldest = c.newerIdle;
        }
        else
        {
            c.olderIdle.newerIdle = c.newerIdle;
        }
        c.newerIdle = null;
        c.olderIdle = null;
        c.inPool = false;
        idleCount--;
    }

    @Override
    public String toString()
    {
        return "upstream " + address + " (" + open + " open, " + idleCount + " idle)";
    }
}
