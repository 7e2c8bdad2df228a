package io.millrace.net;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link TcpServer}'s workers open, pool and time out their {@linkplain OutboundConnections
 * outbound connections}; pass it with {@link TcpServerBuilder#outbound(OutboundOptions)}, which takes a
 * copy. Every limit is per worker and per upstream address unless it says otherwise: workers never
 * share a connection, so nothing here is a global count.
 *
 * <p>Defaults (in one place, here): connect timeout 5 s; read timeout 60 s (nginx's
 * {@code proxy_read_timeout}); idle timeout 4 s; at most 32 idle connections per upstream (a typical
 * nginx {@code keepalive 32}), 1000 requests per connection ({@code keepalive_requests}) and a lifetime
 * of 1 h ({@code keepalive_time}); at most 1024 connections per upstream and 1024 upstream addresses
 * per worker; 64 KiB of unconsumed input per connection; write watermarks 256 KiB high and 64 KiB
 * low; {@code TCP_NODELAY} on and the OS's socket buffer sizes.
 *
 * <p>The idle timeout is short on purpose: an upstream closes a keep-alive connection it has not
 * used for its own timeout (nginx's {@code keepalive_timeout} is 75 s, many application servers use
 * 5 s or less), and a request sent on a connection the upstream is closing at that moment fails (the
 * classic source of 502s). Closing ours first leaves that race only to upstreams whose timeout is
 * shorter still; set it below the shortest of your upstreams'. The race that remains is reported by
 * {@link OutboundHandler#onClosed}'s {@code staleReuse}, so the request can be retried on a fresh connection.
 *
 * <p>Not thread-safe: configure it on one thread, then hand it to the builder.
 */
public final class OutboundOptions
{
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration readTimeout = Duration.ofSeconds(60);
    private Duration idleTimeout = Duration.ofSeconds(4);
    private Duration maxLifetime = Duration.ofHours(1);
    private int maxIdlePerUpstream = 32;
    private int maxConnectionsPerUpstream = 1024;
    private int maxRequestsPerConnection = 1000;
    private int maxUpstreams = 1024;
    private int maxInboundBytes = 64 * 1024;
    private long writeHighWatermark = 256 * 1024;
    private long writeLowWatermark = 64 * 1024;
    private boolean tcpNoDelay = true;
    private int receiveBufferSize;
    private int sendBufferSize;

    /**
     * @return options with the defaults listed above
     */
    public static OutboundOptions defaults()
    {
        return new OutboundOptions();
    }

    private OutboundOptions()
    {
    }

    /**
     * @param timeout how long a connect may take before it fails with {@link ConnectFailure#TIMEOUT};
     *                positive. Measured on the worker's timers, so it fires within about a millisecond of it
     * @return these options
     */
    public OutboundOptions connectTimeout(final Duration timeout)
    {
        connectTimeout = positive("connectTimeout", timeout);
        return this;
    }

    /**
     * @param timeout the read timeout each lease starts with: no byte for this long closes the connection
     *                with {@link OutboundCloseCause#READ_TIMEOUT}; zero for none. A handler changes it for
     *                its lease with {@link OutboundConnection#readTimeout(long)}
     * @return these options
     */
    public OutboundOptions readTimeout(final Duration timeout)
    {
        Objects.requireNonNull(timeout, "readTimeout(null): pass Duration.ZERO for none");
        if (timeout.isNegative())
        {
            throw new IllegalArgumentException("readTimeout must not be negative (zero for none), was " + timeout);
        }
        readTimeout = timeout;
        return this;
    }

    /**
     * @param timeout an idle pooled connection is closed after this long unused; positive, and shorter
     *                than the upstreams' own keep-alive timeout (see the class comment)
     * @return these options
     */
    public OutboundOptions idleTimeout(final Duration timeout)
    {
        idleTimeout = positive("idleTimeout", timeout);
        return this;
    }

    /**
     * @param lifetime a connection older than this is closed instead of being pooled or reused; positive
     * @return these options
     */
    public OutboundOptions maxLifetime(final Duration lifetime)
    {
        maxLifetime = positive("maxLifetime", lifetime);
        return this;
    }

    /**
     * @param count idle connections kept per upstream; 0 turns pooling off (every lease connects anew)
     * @return these options
     */
    public OutboundOptions maxIdlePerUpstream(final int count)
    {
        if (count < 0)
        {
            throw new IllegalArgumentException("maxIdlePerUpstream must be >= 0 (0 = no pooling), was " + count);
        }
        maxIdlePerUpstream = count;
        return this;
    }

    /**
     * @param count connections per upstream (connecting, leased and idle); at the limit
     *              {@link OutboundConnections#acquire} returns null, so the caller tries another upstream or answers 503
     * @return these options
     */
    public OutboundOptions maxConnectionsPerUpstream(final int count)
    {
        maxConnectionsPerUpstream = positive("maxConnectionsPerUpstream", count);
        return this;
    }

    /**
     * @param count leases one connection serves before it is closed instead of pooled; positive
     * @return these options
     */
    public OutboundOptions maxRequestsPerConnection(final int count)
    {
        maxRequestsPerConnection = positive("maxRequestsPerConnection", count);
        return this;
    }

    /**
     * @param count distinct upstream addresses with connections; a new address beyond it makes
     *              {@link OutboundConnections#acquire} return null. Bounds the per-address bookkeeping
     *              when the addresses come from requests
     * @return these options
     */
    public OutboundOptions maxUpstreams(final int count)
    {
        maxUpstreams = positive("maxUpstreams", count);
        return this;
    }

    /**
     * @param bytes unconsumed input a connection holds; reading pauses above it until the handler
     *              consumes and calls {@link OutboundConnection#resumeReading()}
     * @return these options
     */
    public OutboundOptions maxInboundBytes(final int bytes)
    {
        maxInboundBytes = positive("maxInboundBytes", bytes);
        return this;
    }

    /**
     * @param high queued output at or above which {@link OutboundConnection#isWritable()} turns false
     * @param low  queued output at or below which it turns true again and {@link OutboundHandler#onWritable} runs;
     *             below {@code high}
     * @return these options
     */
    public OutboundOptions writeWatermarks(final long high, final long low)
    {
        if (low < 0 || high <= low)
        {
            throw new IllegalArgumentException("writeWatermarks need 0 <= low < high, were high=" + high + " low=" + low);
        }
        writeHighWatermark = high;
        writeLowWatermark = low;
        return this;
    }

    /**
     * @param on {@code TCP_NODELAY} on outbound sockets
     * @return these options
     */
    public OutboundOptions tcpNoDelay(final boolean on)
    {
        tcpNoDelay = on;
        return this;
    }

    /**
     * @param bytes {@code SO_RCVBUF} of outbound sockets; 0 keeps the OS default
     * @return these options
     */
    public OutboundOptions receiveBufferSize(final int bytes)
    {
        receiveBufferSize = nonNegative("receiveBufferSize", bytes);
        return this;
    }

    /**
     * @param bytes {@code SO_SNDBUF} of outbound sockets; 0 keeps the OS default
     * @return these options
     */
    public OutboundOptions sendBufferSize(final int bytes)
    {
        sendBufferSize = nonNegative("sendBufferSize", bytes);
        return this;
    }

    /** A copy, so that changes after {@link TcpServerBuilder#outbound} do not reach a built server. */
    OutboundOptions copy()
    {
        final OutboundOptions c = new OutboundOptions();
        c.connectTimeout = connectTimeout;
        c.readTimeout = readTimeout;
        c.idleTimeout = idleTimeout;
        c.maxLifetime = maxLifetime;
        c.maxIdlePerUpstream = maxIdlePerUpstream;
        c.maxConnectionsPerUpstream = maxConnectionsPerUpstream;
        c.maxRequestsPerConnection = maxRequestsPerConnection;
        c.maxUpstreams = maxUpstreams;
        c.maxInboundBytes = maxInboundBytes;
        c.writeHighWatermark = writeHighWatermark;
        c.writeLowWatermark = writeLowWatermark;
        c.tcpNoDelay = tcpNoDelay;
        c.receiveBufferSize = receiveBufferSize;
        c.sendBufferSize = sendBufferSize;
        return c;
    }

    long connectTimeoutNanos()
    {
        return nanos(connectTimeout);
    }

    /** @return the read timeout each lease starts with, in nanoseconds; 0 for none */
    public long readTimeoutNanos()
    {
        return nanos(readTimeout);
    }

    long idleTimeoutNanos()
    {
        return nanos(idleTimeout);
    }

    long maxLifetimeNanos()
    {
        return nanos(maxLifetime);
    }

    int maxIdlePerUpstream()
    {
        return maxIdlePerUpstream;
    }

    int maxConnectionsPerUpstream()
    {
        return maxConnectionsPerUpstream;
    }

    int maxRequestsPerConnection()
    {
        return maxRequestsPerConnection;
    }

    int maxUpstreams()
    {
        return maxUpstreams;
    }

    int maxInboundBytes()
    {
        return maxInboundBytes;
    }

    long writeHighWatermark()
    {
        return writeHighWatermark;
    }

    long writeLowWatermark()
    {
        return writeLowWatermark;
    }

    boolean tcpNoDelay()
    {
        return tcpNoDelay;
    }

    int receiveBufferSize()
    {
        return receiveBufferSize;
    }

    int sendBufferSize()
    {
        return sendBufferSize;
    }

    @Override
    public String toString()
    {
        return "OutboundOptions[connectTimeout=" + connectTimeout + ", readTimeout=" + readTimeout + ", idleTimeout=" +
            idleTimeout + ", maxLifetime=" + maxLifetime + ", maxIdlePerUpstream=" + maxIdlePerUpstream +
            ", maxConnectionsPerUpstream=" + maxConnectionsPerUpstream + ", maxRequestsPerConnection=" +
            maxRequestsPerConnection + ", maxUpstreams=" + maxUpstreams + ", maxInboundBytes=" + maxInboundBytes +
            ", writeWatermarks=" + writeHighWatermark + "/" + writeLowWatermark + "]";
    }

    /** Saturates: a duration past about 292 years means "never", not an ArithmeticException at first use. */
    private static long nanos(final Duration d)
    {
        try
        {
            return d.toNanos();
        }
        catch (final ArithmeticException tooLong)
        {
            return Long.MAX_VALUE;
        }
    }

    private static Duration positive(final String what, final Duration d)
    {
        Objects.requireNonNull(d, what + "(null)");
        if (d.isNegative() || d.isZero())
        {
            throw new IllegalArgumentException(what + " must be positive, was " + d);
        }
        return d;
    }

    private static int positive(final String what, final int value)
    {
        if (value < 1)
        {
            throw new IllegalArgumentException(what + " must be positive, was " + value);
        }
        return value;
    }

    private static int nonNegative(final String what, final int value)
    {
        if (value < 0)
        {
            throw new IllegalArgumentException(what + " must be >= 0 (0 = OS default), was " + value);
        }
        return value;
    }
}
