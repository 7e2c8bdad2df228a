package io.millrace.net;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.HashMap;

/**
 * One worker's outbound bookkeeping: every open connection in a dense array (each knows its
 * {@link OutboundConnection#slot}, so removal is a swap with the last), and the {@link UpstreamPool}s by
 * address, also in a dense array so that the idle sweep walks them without an iterator. Both bounded:
 * pools by {@link OutboundOptions#maxUpstreams}, connections by that times
 * {@link OutboundOptions#maxConnectionsPerUpstream}.
 *
 * <p>Threading: owned by the worker thread; nothing here is shared.
 */
final class OutboundTable
{
    private final int maxUpstreams;
    private final HashMap<InetSocketAddress, UpstreamPool> byAddress = new HashMap<>();
    private UpstreamPool[] pools = new UpstreamPool[8];
    private int poolCount;
    private OutboundConnection[] connections = new OutboundConnection[16];
    private int count;

    OutboundTable(final int maxUpstreams)
    {
        this.maxUpstreams = maxUpstreams;
    }

    /** @return the pool of {@code address}, or null if it has none */
    UpstreamPool find(final InetSocketAddress address)
    {
        return byAddress.get(address);
    }

    /**
     * @return the pool of {@code address}, made if need be; null if {@link OutboundOptions#maxUpstreams}
     *         addresses have connections
     */
    UpstreamPool poolFor(final InetSocketAddress address)
    {
        final UpstreamPool known = byAddress.get(address);
        if (known != null)
        {
            return known;
        }
        if (poolCount >= maxUpstreams)
        {
            dropEmptyPools();
            if (poolCount >= maxUpstreams)
            {
                return null;
            }
        }
        final UpstreamPool pool = new UpstreamPool(address);
        if (poolCount == pools.length)
        {
            pools = Arrays.copyOf(pools, pools.length * 2);
        }
        pool.slot = poolCount;
        pools[poolCount++] = pool;
        byAddress.put(address, pool);
        return pool;
    }

    int poolCount()
    {
        return poolCount;
    }

    UpstreamPool pool(final int index)
    {
        return pools[index];
    }

    /** Forgets {@code pool}, which has no connection; a later acquire makes a new one. */
    void removePool(final UpstreamPool pool)
    {
        if (pool.slot < 0)
        {
            return;
        }
        byAddress.remove(pool.address);
        final UpstreamPool last = pools[--poolCount];
        pools[pool.slot] = last;
        last.slot = pool.slot;
        pools[poolCount] = null;
        pool.slot = -1;
    }

    private void dropEmptyPools()
    {
        for (int i = poolCount - 1; i >= 0; i--)
        {
            if (pools[i].open == 0)
            {
                removePool(pools[i]);
            }
        }
    }

    int size()
    {
        return count;
    }

    /** @return the connection in the last occupied slot; only while {@link #size()} is positive */
    OutboundConnection last()
    {
        return connections[count - 1];
    }

    void add(final OutboundConnection c)
    {
        if (count == connections.length)
        {
            connections = Arrays.copyOf(connections, connections.length * 2);
        }
        c.slot = count;
        connections[count++] = c;
        c.pool.open++;
    }

    /** Removes {@code c}; does nothing if it is not in the table. */
    void remove(final OutboundConnection c)
    {
        final int slot = c.slot;
        if (slot < 0)
        {
            return;
        }
        final OutboundConnection last = connections[--count];
        connections[slot] = last;
        last.slot = slot;
        connections[count] = null;
        c.slot = -1;
        c.pool.open--;
    }
}
