package io.millrace.net;

import io.millrace.worker.Fatal;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * How accepted channels reach one worker's {@link WorkerTransport}: the worker's listening socket,
 * if it has one, and the hand-off queue through which, without {@code SO_REUSEPORT}, the accepting
 * worker passes channels to the others.
 *
 * <p>When accept fails (typically {@code EMFILE}, "Too many open files") the pending connection
 * stays in the kernel's backlog and the listener stays ready, so retrying on the next turn would
 * spin the worker at 100% CPU and flood the log. Instead the listener drops its accept interest
 * for a back-off, 10 ms doubling to 1 s and reset by a successful accept, and the transport re-arms
 * it on the first turn after ({@link #rearmIfDue}). Meanwhile the worker serves its connections
 * (whose closing is what frees descriptors). Both accept paths, a worker's own {@code SO_REUSEPORT}
 * listener and worker 0 accepting for all, go through here.
 *
 * <p>Threading: owned by the transport's worker thread, except {@link #handOff}, which the
 * accepting worker calls; the queue is many-to-one and the selector wakeup is thread-safe. The
 * back-off fields are the owner's alone.
 */
final class Acceptor
{
    /** How a channel is taken off a listener: {@link ServerSocketChannel#accept()}, or a test's stand-in. */
    @FunctionalInterface
    interface AcceptCall
    {
        SocketChannel accept(ServerSocketChannel listener) throws IOException;
    }

    private static final int ACCEPTS_PER_TURN = 64;
    static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final WorkerTransport transport;
    private final TcpServer server;
    private final Selector selector;
    private final ServerSocketChannel listener;
    private final ManyToOneConcurrentArrayQueue<SocketChannel> handOffs;
    private final AcceptCall acceptCall;
    /** The listener's registration, whose accept interest a back-off turns off; null without a listener. */
    private final SelectionKey listenerKey;
    private boolean listenerClosed;
    /** The next back-off; doubles on each failure, back to the minimum on a successful accept. */
    private long backoffNanos = MIN_BACKOFF_NANOS;
    private boolean backingOff;
    private long rearmAtNanos;
    /**
     * Set by this worker when it closes; read by the accepting worker before a hand-off. The
     * listener closes when shutdown begins and this worker closes only after the drain, so a
     * hand-off racing the close is not expected; the flag keeps late ones out of a dead queue.
     */
    private volatile boolean pendingClosed;

    /**
     * @param transport      the owner, which registers the channels
     * @param server         the server, which picks the worker for an accepted channel
     * @param selector       the owner's selector, with which the listener registers
     * @param listener       this worker's listening socket, or null
     * @param handOffCapacity how many handed-over channels may wait; a full queue makes the accepting worker register the channel itself
     */
    Acceptor(final WorkerTransport transport, final TcpServer server, final Selector selector,
        final ServerSocketChannel listener, final int handOffCapacity) throws IOException
    {
        this.transport = transport;
        this.server = server;
        this.selector = selector;
        this.listener = listener;
        this.handOffs = new ManyToOneConcurrentArrayQueue<>(Math.max(16, handOffCapacity));
        this.acceptCall = server.acceptCall();
        this.listenerKey = listener != null ? listener.register(selector, SelectionKey.OP_ACCEPT, listener) : null;
    }

    /**
     * @return whether a selection key's attachment is this worker's listener
     */
    boolean isListener(final Object attachment)
    {
        return attachment == listener;
    }

    boolean hasListener()
    {
        return listener != null;
    }

    /**
     * Registers every channel handed to this worker since the last turn.
     *
     * @return channels taken
     */
    int takeHandOffs()
    {
        int taken = 0;
        SocketChannel handed;
        while ((handed = handOffs.poll()) != null)
        {
            transport.register(handed);
            taken++;
        }
        return taken;
    }

    /** Without SO_REUSEPORT: the accepting worker passes a channel to this one. Any thread. */
    boolean handOff(final SocketChannel channel)
    {
        if (pendingClosed || !handOffs.offer(channel))
        {
            return false; // the acceptor registers or closes it itself
        }
        selector.wakeup();
        return true;
    }

    /** Accepts what the listener has, a bounded number per turn, and places each channel. */
    void accept()
    {
        for (int i = 0; i < ACCEPTS_PER_TURN && !listenerClosed; i++)
        {
            final SocketChannel channel;
            try
            {
                channel = acceptCall.accept(listener);
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                acceptFailed(ex);
                return;
            }
            if (channel == null)
            {
                return;
            }
            backoffNanos = MIN_BACKOFF_NANOS;
            final WorkerTransport target = server.acceptTarget(transport);
            if (target == transport || !target.handOff(channel))
            {
                transport.register(channel);
            }
        }
    }

    /** Counts and logs a failed accept and stops accepting for the current back-off. */
    private void acceptFailed(final Throwable ex)
    {
        transport.counters().add(TransportCounters.ACCEPT_ERRORS, 1);
        transport.logError("accept failed; pausing accepts for " + TimeUnit.NANOSECONDS.toMillis(backoffNanos) + " ms", ex);
        if (listenerKey.isValid())
        {
            listenerKey.interestOps(0);
        }
        backingOff = true;
        rearmAtNanos = System.nanoTime() + backoffNanos;
        backoffNanos = Math.min(backoffNanos * 2, MAX_BACKOFF_NANOS);
    }

    /**
     * Accepts again once a back-off has passed. Called by the transport on every turn: one branch
     * when there is nothing to do.
     *
     * @param now the transport's clock, read after the failure that started the back-off
     */
    void rearmIfDue(final long now)
    {
        if (backingOff && now - rearmAtNanos >= 0)
        {
            backingOff = false;
            if (!listenerClosed && listenerKey.isValid())
            {
                listenerKey.interestOps(SelectionKey.OP_ACCEPT);
            }
        }
    }

    void closeListener()
    {
        if (listener != null && !listenerClosed)
        {
            listenerClosed = true;
            WorkerTransport.closeQuietly(listener);
        }
    }

    /**
     * Refuses the channels handed over but not yet taken (counted, and told why if the server has a
     * refusal message, like any connection turned away while stopping); later hand-offs are refused
     * by the accepting worker, which registers, and so refuses, them itself.
     */
    void closePending()
    {
        pendingClosed = true;
        SocketChannel pending;
        while ((pending = handOffs.poll()) != null)
        {
            transport.refuse(pending);
        }
    }
}
