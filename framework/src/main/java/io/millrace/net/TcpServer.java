package io.millrace.net;

import io.millrace.memory.BufferAllocator;
import io.millrace.stage.WorkerTimers;
import io.millrace.worker.WorkerIo;
import io.millrace.worker.WorkerIoProvider;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP server whose sockets live in the pipeline's workers: each worker polls its own selector in
 * the same loop as its inbox, so a request is read, processed and answered on one thread with no
 * hand-off from a listener thread.
 *
 * <p>Connections are spread over the workers by the kernel: every worker listens on the same port
 * with {@code SO_REUSEPORT} (Linux, and most BSDs). Where the option is missing, or turned off with
 * {@link TcpServerBuilder#reusePort(boolean)}, worker 0 alone accepts and passes each channel to a
 * worker in turn through that worker's bounded hand-off queue: one queue offer per connection, never
 * per request.
 *
 * <pre>{@code
 * TcpServer server = TcpServer.builder(handler).bind(new InetSocketAddress("127.0.0.1", 8080)).build();
 * Pipeline<Req> pipeline = builder.memory(SlabArena.builder().build()).io(server).build().start();
 * System.out.println("listening on " + server.localAddress());
 * }</pre>
 *
 * <p>Each worker also opens, pools and polls its own connections to upstreams in the same selector:
 * {@link #outbound(int)} (configured with {@link TcpServerBuilder#outbound(OutboundOptions)}).
 *
 * <p>Thread-safe: {@link #localAddress()}, {@link #stats()} and {@link #outboundStats()} may be read
 * from any thread, {@link #outbound(int)} called from any thread (its result is used on its worker).
 */
public final class TcpServer implements WorkerIoProvider
{
    private final TcpServerBuilder config;
    private final AtomicLong connectionIds = new AtomicLong();
    private final ConnectionLimit connectionLimit;
    private volatile WorkerTransport[] transports;
    private volatile InetSocketAddress localAddress;
    private volatile boolean reusePort;

    TcpServer(final TcpServerBuilder config)
    {
        this.config = config;
        this.connectionLimit = new ConnectionLimit(config.maxConnections());
    }

    /**
     * @param handler what to do with connections; called on the owning worker threads
     * @return a builder with the defaults listed on {@link TcpServerBuilder}
     */
    public static TcpServerBuilder builder(final ConnectionHandler handler)
    {
        return new TcpServerBuilder(handler);
    }

    @Override
    public synchronized WorkerIo[] open(final Thread[] workerThreads, final BufferAllocator[] allocators, final WorkerTimers[] timers)
        throws IOException
    {
        if (transports != null)
        {
            throw new IllegalStateException("this TcpServer is already attached to a running pipeline; build one per pipeline");
        }
        final int workers = workerThreads.length;
        final boolean useReusePort = config.reusePort() && supportsReusePort();
        final ServerSocketChannel[] listeners = new ServerSocketChannel[workers];
        final WorkerTransport[] opened = new WorkerTransport[workers];
        // The limit is global (connectionLimit); a worker's share only sizes its hand-off queue,
        // and a full queue is not a refusal: the accepting worker then registers the channel itself.
        final int handOffCapacity = Math.max(1, (config.maxConnections() + workers - 1) / workers);
        try
        {
            InetSocketAddress bound = config.address();
            for (int i = 0; i < (useReusePort ? workers : 1); i++)
            {
                final ServerSocketChannel ssc = ServerSocketChannel.open();
                listeners[i] = ssc;
                ssc.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                if (useReusePort)
                {
                    ssc.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                }
                ssc.configureBlocking(false);
                ssc.bind(bound, config.backlog());
                // With port 0 the first bind picks the port; the others must share it.
                bound = (InetSocketAddress)ssc.getLocalAddress();
            }
            for (int i = 0; i < workers; i++)
            {
                opened[i] = new WorkerTransport(this, i, workerThreads[i], allocators[i], timers[i], listeners[i], handOffCapacity);
            }
            localAddress = bound;
        }
        catch (final IOException | RuntimeException ex)
        {
            for (final ServerSocketChannel ssc : listeners)
            {
                if (ssc != null)
                {
                    ssc.close();
                }
            }
            for (final WorkerTransport t : opened)
            {
                if (t != null)
                {
                    t.close();
                }
            }
            throw new IOException("could not listen on " + config.address() + ": " + ex.getMessage(), ex);
        }
        reusePort = useReusePort;
        transports = opened;
        return opened.clone();
    }

    private static boolean supportsReusePort()
    {
        try (ServerSocketChannel probe = ServerSocketChannel.open())
        {
            return probe.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT);
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    /**
     * @return the address the server listens on (with the real port when 0 was asked), or null
     *         before the pipeline started
     */
    public InetSocketAddress localAddress()
    {
        return localAddress;
    }

    /**
     * @return true if every worker listens with {@code SO_REUSEPORT}; false if worker 0 accepts for all
     */
    public boolean usesReusePort()
    {
        return reusePort;
    }

    /**
     * @return the counters summed over all workers; zeros before start
     */
    public TransportStats stats()
    {
        final WorkerTransport[] ts = transports;
        final long[] sum = new long[TransportCounters.COUNT];
        long maxPending = 0;
        if (ts != null)
        {
            for (final WorkerTransport t : ts)
            {
                for (int c = 0; c < sum.length; c++)
                {
                    sum[c] += t.counters().get(c);
                }
                maxPending = Math.max(maxPending, t.counters().get(TransportCounters.MAX_PENDING_OUTPUT));
            }
        }
        return new TransportStats(sum[TransportCounters.OPEN], sum[TransportCounters.ACCEPTED], sum[TransportCounters.REFUSED],
            sum[TransportCounters.CLOSED], sum[TransportCounters.IDLE_TIMEOUTS], sum[TransportCounters.READ_TIMEOUTS],
            sum[TransportCounters.HANDLER_ERRORS], sum[TransportCounters.IO_ERRORS], sum[TransportCounters.ACCEPT_ERRORS],
            sum[TransportCounters.BYTES_READ],
            sum[TransportCounters.BYTES_WRITTEN], sum[TransportCounters.READ_PAUSES],
            sum[TransportCounters.PENDING_OUTPUT], maxPending);
    }

    /**
     * The outbound connections of one worker, for code running on that worker: a stage placed there
     * ({@code server.outbound(ctx.workerIndex())}) or a callback of one of its connections
     * ({@code server.outbound(connection.workerIndex())}).
     *
     * @param workerIndex the worker, from 0
     * @return that worker's outbound connections; their methods must be called on that worker's thread
     * @throws IllegalStateException before the pipeline started
     * @throws IndexOutOfBoundsException for a worker that does not exist
     */
    public OutboundConnections outbound(final int workerIndex)
    {
        final WorkerTransport[] ts = transports;
        if (ts == null)
        {
            throw new IllegalStateException("outbound(" + workerIndex + ") before start: attach this TcpServer with " +
                "PipelineBuilder.io(server) and start the pipeline first");
        }
        if (workerIndex < 0 || workerIndex >= ts.length)
        {
            throw new IndexOutOfBoundsException("outbound(" + workerIndex + "): the pipeline has workers 0 to " + (ts.length - 1));
        }
        return ts[workerIndex].outbound();
    }

    /**
     * @return the outbound counters summed over all workers; zeros before start
     */
    public OutboundStats outboundStats()
    {
        final WorkerTransport[] ts = transports;
        final long[] sum = new long[OutboundCounters.COUNT];
        if (ts != null)
        {
            for (final WorkerTransport t : ts)
            {
                for (int c = 0; c < sum.length; c++)
                {
                    sum[c] += t.outbound().counters().get(c);
                }
            }
        }
        return new OutboundStats(sum);
    }

    // ------------------------------------------------------------------ for WorkerTransport

    OutboundOptions outboundOptions()
    {
        return config.outboundOptions();
    }

    ConnectionHandler handler()
    {
        return config.handler();
    }

    long nextConnectionId()
    {
        return connectionIds.incrementAndGet();
    }

    ConnectionLimit connectionLimit()
    {
        return connectionLimit;
    }

    /** For tests: connection slots taken now, over all workers; 0 once every connection closed. */
    int connectionsInUse()
    {
        return connectionLimit.inUse();
    }

    /** A refusal for one worker, with its own view of the message. */
    Refusal newRefusal()
    {
        return new Refusal(config.refusalMessage());
    }

    int maxInboundBytes()
    {
        return config.maxInboundBytes();
    }

    long maxPendingOutputBytes()
    {
        return config.maxPendingOutputBytes();
    }

    long idleTimeoutNanos()
    {
        return config.idleTimeout().toNanos();
    }

    /** The worker that gets the next connection accepted by {@code acceptor}: itself with SO_REUSEPORT. */
    WorkerTransport acceptTarget(final WorkerTransport acceptor)
    {
        final WorkerTransport[] ts = transports;
        return reusePort ? acceptor : ts[acceptor.nextTarget(ts.length)];
    }

    Acceptor.AcceptCall acceptCall()
    {
        return config.acceptCall();
    }

    void configure(final SocketChannel channel) throws IOException
    {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, config.tcpNoDelay());
        if (config.receiveBufferSize() > 0)
        {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, config.receiveBufferSize());
        }
        if (config.sendBufferSize() > 0)
        {
            channel.setOption(StandardSocketOptions.SO_SNDBUF, config.sendBufferSize());
        }
    }

    @Override
    public String toString()
    {
        return "TcpServer[" + (localAddress != null ? localAddress : config.address()) + "]";
    }
}
