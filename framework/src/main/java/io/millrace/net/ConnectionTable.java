package io.millrace.net;

import java.util.Arrays;

/**
 * The connections one worker's transport has open, in a dense array. Each connection knows its
 * {@link Connection#slot}, so removal is a swap with the last entry and the timeout sweep is a
 * plain scan, with no allocation per connection or per sweep.
 *
 * <p>Threading: owned by the transport's worker thread; nothing here is shared.
 */
final class ConnectionTable
{
    private Connection[] connections = new Connection[16];
    private int count;

    /**
     * @return open connections
     */
    int size()
    {
        return count;
    }

    /**
     * @return the connection in the last occupied slot; only while {@link #size()} is positive
     */
    Connection last()
    {
        return connections[count - 1];
    }

    void add(final Connection connection)
    {
        if (count == connections.length)
        {
            connections = Arrays.copyOf(connections, connections.length * 2);
        }
        connection.slot = count;
        connections[count++] = connection;
    }

    /** Removes {@code c} by moving the last connection into its slot; does nothing if {@code c} is not in the table. */
    void remove(final Connection c)
    {
        final int slot = c.slot;
        if (slot < 0)
        {
            return; // never added (its registration failed) or already removed
        }
        final Connection last = connections[--count];
        connections[slot] = last;
        last.slot = slot;
        connections[count] = null;
        c.slot = -1;
    }

    /**
     * Hands every connection past its read deadline to {@code transport} (which asks the handler),
     * and closes through it every connection idle for {@code idleTimeout}, unless it is
     * {@linkplain Connection#setProcessing processing} a request and not closing. The transport calls
     * this once per sweep period (not per turn or per request), so the scan costs O(connections) per
     * period and nothing per request.
     *
     * <p>Scans from the end, so the swap-removal of a closed connection moves only an entry already
     * looked at. A handler's {@code onClose} or {@code onReadTimeout} may close other connections too
     * (a proxy closes the peer of a closed connection), which can shrink the table below the scan:
     * such slots are skipped. Such a close may also move an entry already looked at back into the part
     * still to scan; looking at it twice is harmless (its deadline was disarmed when it fired).
     *
     * @param now         the transport's clock
     * @param idleTimeout idle limit in nanoseconds, or 0 for none
     * @param transport   the owner, which closes, counts and calls the handler
     * @return connections that timed out
     */
    int expire(final long now, final long idleTimeout, final WorkerTransport transport)
    {
        int expired = 0;
        for (int i = count - 1; i >= 0; i--)
        {
            if (i >= count)
            {
                continue; // emptied by a close that a callback made during this sweep
            }
            final Connection c = connections[i];
            if (c.readDeadlineNanos != 0 && now - c.readDeadlineNanos >= 0)
            {
                transport.readTimedOut(c);
                expired++;
            }
            else if (idleTimeout > 0 && (!c.isProcessing() || c.closing()) && now - c.lastActivityNanos >= idleTimeout)
            {
                transport.close(c, TransportCounters.IDLE_TIMEOUTS);
                expired++;
            }
        }
        return expired;
    }
}
