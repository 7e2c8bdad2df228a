package io.millrace.net;

import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.Objects;

/**
 * Configures a {@link TcpServer}. Defaults: 127.0.0.1 on an ephemeral port, backlog 1024,
 * 10,000 connections over all workers, 64 KiB of unconsumed input and 256 KiB of queued output per
 * connection, a 60 s idle timeout, {@code TCP_NODELAY} on, the OS's socket buffer sizes, {@code SO_REUSEPORT} where
 * supported. Not thread-safe.
 */
public final class TcpServerBuilder
{
    private final ConnectionHandler handler;
    private InetSocketAddress address = new InetSocketAddress("127.0.0.1", 0);
    private int backlog = 1024;
    private int maxConnections = 10_000;
    private int maxInboundBytes = 64 * 1024;
    private long maxPendingOutputBytes = 256 * 1024;
    private Duration idleTimeout = Duration.ofSeconds(60);
    private boolean tcpNoDelay = true;
    private int receiveBufferSize;
    private int sendBufferSize;
    private boolean reusePort = true;
    private Acceptor.AcceptCall acceptCall = ServerSocketChannel::accept;

    TcpServerBuilder(final ConnectionHandler handler)
    {
        this.handler = Objects.requireNonNull(handler, "TcpServer.builder(null): pass the ConnectionHandler that serves connections");
    }

    /**
     * @param bindAddress where to listen; port 0 picks a free port ({@link TcpServer#localAddress()} tells it)
     * @return this builder
     */
    public TcpServerBuilder bind(final InetSocketAddress bindAddress)
    {
        address = Objects.requireNonNull(bindAddress, "bind(null)");
        return this;
    }

    /**
     * @param count the listen backlog, at least 1
     * @return this builder
     */
    public TcpServerBuilder backlog(final int count)
    {
        backlog = positive("backlog", count);
        return this;
    }

    /**
     * @param count the most connections open at once over all workers, however unevenly they land
     *              on them; more are accepted, closed at once and counted in {@link TransportStats#refused()}
     * @return this builder
     */
    public TcpServerBuilder maxConnections(final int count)
    {
        maxConnections = positive("maxConnections", count);
        return this;
    }

    /**
     * @param bytes the most unconsumed input a connection holds; reading pauses above it
     * @return this builder
     */
    public TcpServerBuilder maxInboundBytes(final int bytes)
    {
        maxInboundBytes = positive("maxInboundBytes", bytes);
        return this;
    }

    /**
     * @param bytes queued output above which a connection stops reading until its peer drains it
     * @return this builder
     */
    public TcpServerBuilder maxPendingOutputBytes(final long bytes)
    {
        if (bytes < 1)
        {
            throw new IllegalArgumentException("maxPendingOutputBytes must be positive, was " + bytes);
        }
        maxPendingOutputBytes = bytes;
        return this;
    }

    /**
     * @param timeout a connection with no bytes read or written for this long is closed; zero disables
     * @return this builder
     */
    public TcpServerBuilder idleTimeout(final Duration timeout)
    {
        Objects.requireNonNull(timeout, "idleTimeout(null)");
        if (timeout.isNegative())
        {
            throw new IllegalArgumentException("idleTimeout must not be negative, was " + timeout);
        }
        idleTimeout = timeout;
        return this;
    }

    /**
     * @param on {@code TCP_NODELAY} on accepted sockets
     * @return this builder
     */
    public TcpServerBuilder tcpNoDelay(final boolean on)
    {
        tcpNoDelay = on;
        return this;
    }

    /**
     * @param bytes {@code SO_RCVBUF} of accepted sockets; 0 keeps the OS default
     * @return this builder
     */
    public TcpServerBuilder receiveBufferSize(final int bytes)
    {
        receiveBufferSize = nonNegative("receiveBufferSize", bytes);
        return this;
    }

    /**
     * @param bytes {@code SO_SNDBUF} of accepted sockets; 0 keeps the OS default
     * @return this builder
     */
    public TcpServerBuilder sendBufferSize(final int bytes)
    {
        sendBufferSize = nonNegative("sendBufferSize", bytes);
        return this;
    }

    /**
     * @param on listen on every worker with {@code SO_REUSEPORT} where the OS supports it (default);
     *           false makes worker 0 accept for all and hand channels over
     * @return this builder
     */
    public TcpServerBuilder reusePort(final boolean on)
    {
        reusePort = on;
        return this;
    }

    /**
     * Test seam: how the server takes a channel off a listening socket, so a test can make accept
     * fail (as it does when the process is out of file descriptors). Package-private on purpose.
     *
     * @param call replaces {@link ServerSocketChannel#accept()}
     * @return this builder
     */
    TcpServerBuilder acceptCall(final Acceptor.AcceptCall call)
    {
        acceptCall = Objects.requireNonNull(call, "acceptCall(null)");
        return this;
    }

    /**
     * @return the server, to attach with {@code PipelineBuilder.io(server)}
     */
    public TcpServer build()
    {
        return new TcpServer(this);
    }

    ConnectionHandler handler()
    {
        return handler;
    }

    InetSocketAddress address()
    {
        return address;
    }

    int backlog()
    {
        return backlog;
    }

    int maxConnections()
    {
        return maxConnections;
    }

    int maxInboundBytes()
    {
        return maxInboundBytes;
    }

    long maxPendingOutputBytes()
    {
        return maxPendingOutputBytes;
    }

    Duration idleTimeout()
    {
        return idleTimeout;
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

    boolean reusePort()
    {
        return reusePort;
    }

    Acceptor.AcceptCall acceptCall()
    {
        return acceptCall;
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
