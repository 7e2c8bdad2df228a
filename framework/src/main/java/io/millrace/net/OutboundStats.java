package io.millrace.net;

import java.util.Arrays;

/**
 * A snapshot of a {@link TcpServer}'s outbound connections, summed over its workers. Counters only
 * grow; {@link #open()}, {@link #idle()} and {@link #pendingOutputBytes()} are gauges. Each value is
 * untorn and recent, but they are not read at one instant.
 *
 * <p>Immutable and thread-safe.
 */
public final class OutboundStats
{
    private final long[] values;

    OutboundStats(final long[] values)
    {
        this.values = values.clone();
    }

    /** @return outbound connections open now: connecting, leased or idle in a pool */
    public long open()
    {
        return values[OutboundCounters.OPEN];
    }

    /** @return connections idle in the pools now */
    public long idle()
    {
        return values[OutboundCounters.IDLE];
    }

    /** @return connects started (pool misses that opened a socket) */
    public long connects()
    {
        return values[OutboundCounters.CONNECTS];
    }

    /** @return connects that succeeded */
    public long connected()
    {
        return values[OutboundCounters.CONNECTED];
    }

    /** @return connects that failed, for any cause */
    public long connectFailures()
    {
        long sum = 0;
        for (final ConnectFailure f : ConnectFailure.values())
        {
            sum += connectFailures(f);
        }
        return sum;
    }

    /**
     * @param cause a failure cause
     * @return connects that failed with {@code cause}
     */
    public long connectFailures(final ConnectFailure cause)
    {
        return values[OutboundCounters.FAILURE_BASE + cause.ordinal()];
    }

    /** @return acquires served by an idle pooled connection: reuses */
    public long poolHits()
    {
        return values[OutboundCounters.POOL_HITS];
    }

    /** @return acquires that found no usable idle connection and connected (hits + misses = leases granted) */
    public long poolMisses()
    {
        return values[OutboundCounters.POOL_MISSES];
    }

    /** @return acquires turned down (null) at {@code maxConnectionsPerUpstream} or {@code maxUpstreams} */
    public long limitRejections()
    {
        return values[OutboundCounters.LIMIT_REJECTIONS];
    }

    /** @return connections closed, for any cause (failed connects excluded) */
    public long closed()
    {
        return values[OutboundCounters.CLOSED];
    }

    /**
     * @param cause a close cause
     * @return connections closed for {@code cause}
     */
    public long closes(final OutboundCloseCause cause)
    {
        return values[OutboundCounters.CLOSE_BASE + cause.ordinal()];
    }

    /** @return leases on reused connections that the upstream closed or reset before any byte came back */
    public long staleReuses()
    {
        return values[OutboundCounters.STALE_REUSES];
    }

    /** @return handler callbacks that threw */
    public long handlerErrors()
    {
        return values[OutboundCounters.HANDLER_ERRORS];
    }

    /** @return bytes read from upstreams */
    public long bytesRead()
    {
        return values[OutboundCounters.BYTES_READ];
    }

    /** @return bytes written to upstreams */
    public long bytesWritten()
    {
        return values[OutboundCounters.BYTES_WRITTEN];
    }

    /** @return times a connection's queued output reached the high watermark ({@code isWritable()} turned false) */
    public long writePauses()
    {
        return values[OutboundCounters.WRITE_PAUSES];
    }

    /** @return bytes queued for upstreams now, over all connections */
    public long pendingOutputBytes()
    {
        return values[OutboundCounters.PENDING_OUTPUT];
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof OutboundStats other && Arrays.equals(values, other.values);
    }

    @Override
    public int hashCode()
    {
        return Arrays.hashCode(values);
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder("OutboundStats[open=").append(open()).append(", idle=").append(idle())
            .append(", connects=").append(connects()).append(", connected=").append(connected())
            .append(", poolHits=").append(poolHits()).append(", poolMisses=").append(poolMisses())
            .append(", limitRejections=").append(limitRejections()).append(", closed=").append(closed())
            .append(", staleReuses=").append(staleReuses()).append(", handlerErrors=").append(handlerErrors())
            .append(", bytesRead=").append(bytesRead()).append(", bytesWritten=").append(bytesWritten())
            .append(", writePauses=").append(writePauses()).append(", pendingOutputBytes=").append(pendingOutputBytes());
        for (final ConnectFailure f : ConnectFailure.values())
        {
            if (connectFailures(f) != 0)
            {
                sb.append(", failed ").append(f).append('=').append(connectFailures(f));
            }
        }
        for (final OutboundCloseCause c : OutboundCloseCause.values())
        {
            if (closes(c) != 0)
            {
                sb.append(", closed ").append(c).append('=').append(closes(c));
            }
        }
        return sb.append(']').toString();
    }
}
