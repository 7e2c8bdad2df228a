package io.millrace.net;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.Objects;

/**
 * Configures a {@link TcpServer}. Defaults: 127.0.0.1 on an ephemeral port, backlog 1024,
 * 10,000 connections over all workers, refused ones closed with no message, 64 KiB of unconsumed
 * input and 256 KiB of queued output per connection, a 60 s idle timeout, {@code TCP_NODELAY} on,
 * the OS's socket buffer sizes, {@code SO_REUSEPORT} where supported, and
 * {@link OutboundOptions#defaults()} for the workers' outbound connections. Not thread-safe.
 */
public final class TcpServerBuilder
{
    /** The longest {@link #refusalMessage(byte[])}: a refusal is one write that must fit a fresh socket's send buffer. */
    static final int MAX_REFUSAL_MESSAGE_BYTES = 4096;

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
    private ByteBuffer refusalMessage;
    private Acceptor.AcceptCall acceptCall = ServerSocketChannel::accept;
    private OutboundOptions outbound = OutboundOptions.defaults();

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
     *              on them; more are accepted and refused at once (see {@link #refusalMessage(byte[])})
     *              and counted in {@link TransportStats#refused()}
     * @return this builder
     */
    public TcpServerBuilder maxConnections(final int count)
    {
        maxConnections = positive("maxConnections", count);
        return this;
    }

    /**
     * What a refused connection (over {@link #maxConnections(int)}, or accepted while the server
     * stops) is told before it is closed: the HTTP layer passes a 503 response with
     * {@code Connection: close}. The transport writes it with one non-blocking write (best effort:
     * never a wait, never a queue), shuts its output down, drops what the peer already sent and
     * closes, so the peer reads the message and then end of stream rather than a reset. Without a
     * message (the default) a refused connection is closed at once.
     *
     * @param bytes the message, copied; at most 4096 bytes, so that one write of it fits a fresh
     *              socket's send buffer; empty for none
     * @return this builder
     */
    public TcpServerBuilder refusalMessage(final byte[] bytes)
    {
        Objects.requireNonNull(bytes, "refusalMessage(null): pass an empty array for no message");
        if (bytes.length > MAX_REFUSAL_MESSAGE_BYTES)
        {
            throw new IllegalArgumentException("refusalMessage is " + bytes.length + " bytes; at most " +
                MAX_REFUSAL_MESSAGE_BYTES + " are sent in the one write a refusal gets, so keep it short (a status line and a few headers)");
        }
        if (bytes.length == 0)
        {
            refusalMessage = null;
            return this;
        }
        // Direct, so each refusal writes it without the JDK copying it to a temporary direct buffer.
        refusalMessage = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip().asReadOnlyBuffer();
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
     * @param timeout a connection with no bytes read or written for this long is closed, unless it is
     *                {@linkplain Connection#setProcessing processing} a request (and not closing after
     *                flush); zero disables it, and then nothing closes a connection whose peer goes
     *                silent or stops reading, one closing after flush included
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
     * @param options how the workers open, pool and time out their connections to upstreams
     *                ({@link TcpServer#outbound(int)}); copied, so later changes to it do not apply
     * @return this builder
     */
    public TcpServerBuilder outbound(final OutboundOptions options)
    {
        outbound = Objects.requireNonNull(options, "outbound(null): pass OutboundOptions.defaults() for the defaults").copy();
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

    OutboundOptions outboundOptions()
    {
        return outbound;
    }

    /** The refusal message, read-only, for each worker to duplicate; null for none. */
    ByteBuffer refusalMessage()
    {
        return refusalMessage;
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
