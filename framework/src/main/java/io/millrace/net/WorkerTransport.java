package io.millrace.net;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.SlabExhaustedException;
import io.millrace.worker.WorkerIo;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One worker's share of a {@link TcpServer}: its selector, its listening socket (with
 * {@code SO_REUSEPORT}, so the kernel spreads connections over the workers and no thread hands a
 * connection to another), its connections and their timeouts.
 *
 * <p>Threading: owned by one worker thread, which alone calls {@link #poll()}, {@link #park(long)}
 * and {@link #close()} and runs every handler callback. Other threads touch only
 * {@link #wakeup()}, {@link #stopIntake()} (a volatile flag) and, without {@code SO_REUSEPORT}, the
 * hand-off queue through which the accepting worker passes channels ({@link #handOff}).
 */
final class WorkerTransport implements WorkerIo
{
    private static final Logger LOG = LoggerFactory.getLogger(WorkerTransport.class);
    private static final long TIMER_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final int ACCEPTS_PER_TURN = 64;

    private final TcpServer server;
    private final int workerIndex;
    private final Thread thread;
    private final BufferAllocator allocator;
    private final Selector selector;
    private final ServerSocketChannel listener;
    private final ManyToOneConcurrentArrayQueue<SocketChannel> handOffs;
    private final TransportCounters counters = new TransportCounters();
    private final Consumer<SelectionKey> onKey = this::onKey;
    private final int maxConnections;
    private Connection[] connections = new Connection[16];
    private int connectionCount;
    private long now;
    private long nextTimerNanos;
    private long lastErrorLogNanos;
    private int nextTarget;
    private volatile boolean intakeStopped;
    private boolean listenerClosed;

    WorkerTransport(final TcpServer server, final int workerIndex, final Thread thread, final BufferAllocator allocator,
        final ServerSocketChannel listener, final int maxConnections) throws IOException
    {
        this.server = server;
        this.workerIndex = workerIndex;
        this.thread = thread;
        this.allocator = allocator;
        this.listener = listener;
        this.maxConnections = maxConnections;
        this.handOffs = new ManyToOneConcurrentArrayQueue<>(Math.max(16, maxConnections));
        this.selector = Selector.open();
        if (listener != null)
        {
            listener.register(selector, SelectionKey.OP_ACCEPT, listener);
        }
        this.now = System.nanoTime();
    }

    // ------------------------------------------------------------------ WorkerIo

    @Override
    public int poll()
    {
        now = System.nanoTime();
        int work = intake();
        try
        {
            work += selector.selectNow(onKey);
        }
        catch (final IOException ex)
        {
            logError("selectNow failed", ex);
        }
        if (now - nextTimerNanos >= 0)
        {
            nextTimerNanos = now + TIMER_PERIOD_NANOS;
            work += expireTimeouts();
        }
        return work;
    }

    @Override
    public void park(final long maxNanos)
    {
        try
        {
            selector.select(onKey, Math.max(1, TimeUnit.NANOSECONDS.toMillis(maxNanos)));
        }
        catch (final IOException ex)
        {
            logError("select failed", ex);
        }
    }

    @Override
    public void wakeup()
    {
        selector.wakeup();
    }

    @Override
    public void stopIntake()
    {
        intakeStopped = true;
        selector.wakeup();
    }

    @Override
    public void close()
    {
        closeListener();
        while (connectionCount > 0)
        {
            close(connections[connectionCount - 1], 0);
        }
        SocketChannel pending;
        while ((pending = handOffs.poll()) != null)
        {
            closeQuietly(pending);
        }
        try
        {
            selector.close();
        }
        catch (final IOException ex)
        {
            logError("closing the selector failed", ex);
        }
    }

    // ------------------------------------------------------------------ accepting

    private int intake()
    {
        if (intakeStopped && !listenerClosed)
        {
            closeListener();
        }
        int taken = 0;
        SocketChannel handed;
        while ((handed = handOffs.poll()) != null)
        {
            register(handed);
            taken++;
        }
        return taken;
    }

    /** Without SO_REUSEPORT: the accepting worker passes a channel to another worker. Any thread. */
    boolean handOff(final SocketChannel channel)
    {
        if (!handOffs.offer(channel))
        {
            return false;
        }
        selector.wakeup();
        return true;
    }

    private void accept()
    {
        for (int i = 0; i < ACCEPTS_PER_TURN && !listenerClosed; i++)
        {
            final SocketChannel channel;
            try
            {
                channel = listener.accept();
            }
            catch (final IOException ex)
            {
                logError("accept failed", ex); // e.g. out of file descriptors: try again next turn
                return;
            }
            if (channel == null)
            {
                return;
            }
            final WorkerTransport target = server.acceptTarget(this);
            if (target == this || !target.handOff(channel))
            {
                register(channel);
            }
        }
    }

    private void register(final SocketChannel channel)
    {
        if (connectionCount >= maxConnections || intakeStopped)
        {
            counters.add(TransportCounters.REFUSED, 1);
            closeQuietly(channel);
            return;
        }
        final Connection connection;
        try
        {
            channel.configureBlocking(false);
            server.configure(channel);
            connection = new Connection(this, channel, server.nextConnectionId(), channel.getRemoteAddress());
            connection.register(channel.register(selector, 0, connection));
        }
        catch (final IOException | SlabExhaustedException ex)
        {
            counters.add(TransportCounters.REFUSED, 1);
            logError("could not register an accepted connection", ex);
            closeQuietly(channel);
            return;
        }
        if (connectionCount == connections.length)
        {
            connections = Arrays.copyOf(connections, connections.length * 2);
        }
        connection.slot = connectionCount;
        connections[connectionCount++] = connection;
        connection.lastActivityNanos = now;
        counters.add(TransportCounters.ACCEPTED, 1);
        counters.add(TransportCounters.OPEN, 1);
        try
        {
            server.handler().onOpen(connection);
        }
        catch (final RuntimeException ex)
        {
            handlerFailed(connection, "onOpen", ex);
        }
    }

    // ------------------------------------------------------------------ I/O events

    private void onKey(final SelectionKey key)
    {
        final Object attachment = key.attachment();
        if (attachment == listener)
        {
            if (key.isValid() && key.isAcceptable())
            {
                accept();
            }
            return;
        }
        final Connection connection = (Connection)attachment;
        if (!key.isValid() || !connection.isOpen())
        {
            return;
        }
        if (key.isWritable())
        {
            connection.flush();
            if (!connection.isOpen())
            {
                return;
            }
        }
        if (key.isReadable())
        {
            read(connection);
        }
    }

    private void read(final Connection connection)
    {
        try
        {
            if (!connection.onReadable(server.maxInboundBytes()))
            {
                return;
            }
        }
        catch (final IOException ex)
        {
            close(connection, TransportCounters.IO_ERRORS);
            return;
        }
        catch (final SlabExhaustedException ex)
        {
            // No chunk for this connection's bytes: shed it rather than grow memory.
            logError("out of buffers; closing " + connection, ex);
            close(connection, TransportCounters.IO_ERRORS);
            return;
        }
        try
        {
            server.handler().onRead(connection);
        }
        catch (final RuntimeException ex)
        {
            handlerFailed(connection, "onRead", ex);
            return;
        }
        connection.updateInterest();
    }

    private int expireTimeouts()
    {
        final long idleTimeout = server.idleTimeoutNanos();
        int closed = 0;
        for (int i = connectionCount - 1; i >= 0; i--)
        {
            final Connection c = connections[i];
            if (c.readDeadlineNanos != 0 && now - c.readDeadlineNanos >= 0)
            {
                close(c, TransportCounters.READ_TIMEOUTS);
                closed++;
            }
            else if (idleTimeout > 0 && now - c.lastActivityNanos >= idleTimeout)
            {
                close(c, TransportCounters.IDLE_TIMEOUTS);
                closed++;
            }
        }
        return closed;
    }

    // ------------------------------------------------------------------ closing

    /** Closes {@code c} and counts why ({@code reason} is a counter index, or 0 for a plain close). */
    void close(final Connection c, final int reason)
    {
        if (!c.isOpen())
        {
            return;
        }
        // Count before the peer can see the close, so that whoever reacts to it sees the counters.
        counters.add(TransportCounters.OPEN, -1);
        counters.add(TransportCounters.CLOSED, 1);
        if (reason != 0)
        {
            counters.add(reason, 1);
        }
        c.releaseAll();
        closeQuietly(c.channel());
        final int slot = c.slot;
        final Connection last = connections[--connectionCount];
        connections[slot] = last;
        last.slot = slot;
        connections[connectionCount] = null;
        c.slot = -1;
        try
        {
            server.handler().onClose(c);
        }
        catch (final RuntimeException ex)
        {
            counters.add(TransportCounters.HANDLER_ERRORS, 1);
            logError("onClose of " + c + " threw", ex);
        }
    }

    /** Tells the handler that {@code c}'s queued output fell below the cap. */
    void drained(final Connection c)
    {
        try
        {
            server.handler().onWritable(c);
        }
        catch (final RuntimeException ex)
        {
            handlerFailed(c, "onWritable", ex);
        }
    }

    private void handlerFailed(final Connection c, final String callback, final RuntimeException ex)
    {
        logError(callback + " of " + c + " threw; closing it", ex);
        close(c, TransportCounters.HANDLER_ERRORS);
    }

    private void closeListener()
    {
        if (listener != null && !listenerClosed)
        {
            listenerClosed = true;
            closeQuietly(listener);
        }
    }

    private static void closeQuietly(final java.nio.channels.Channel channel)
    {
        try
        {
            channel.close();
        }
        catch (final IOException ignored)
        {
            // Closing is best effort; the descriptor is gone either way.
        }
    }

    private void logError(final String what, final Throwable ex)
    {
        // At most one line per second per worker: a flood of bad peers must not flood the log.
        final long t = System.nanoTime();
        if (lastErrorLogNanos == 0 || t - lastErrorLogNanos >= TimeUnit.SECONDS.toNanos(1))
        {
            lastErrorLogNanos = t;
            LOG.warn("{} (worker {}): {}", what, workerIndex, ex.toString());
        }
    }

    // ------------------------------------------------------------------ for Connection and TcpServer

    void checkThread(final String method)
    {
        if (Thread.currentThread() != thread)
        {
            throw new IllegalStateException("Connection." + method + " called on " + Thread.currentThread().getName() +
                " but the connection belongs to " + thread.getName() + "; run the stage that touches it with " +
                "Placement.onWorker(r -> r.connection().workerIndex())");
        }
    }

    BufferAllocator allocator()
    {
        return allocator;
    }

    int workerIndex()
    {
        return workerIndex;
    }

    TransportCounters counters()
    {
        return counters;
    }

    long now()
    {
        return now;
    }

    int maxInboundBytes()
    {
        return server.maxInboundBytes();
    }

    long maxPendingOutputBytes()
    {
        return server.maxPendingOutputBytes();
    }

    int nextTarget(final int workers)
    {
        final int t = nextTarget;
        nextTarget = (t + 1) % workers;
        return t;
    }

    boolean hasListener()
    {
        return listener != null;
    }
}
