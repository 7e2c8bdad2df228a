package io.millrace.net;

import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * How accepted channels reach one worker's {@link WorkerTransport}: the worker's listening socket,
 * if it has one, and the hand-off queue through which, without {@code SO_REUSEPORT}, the accepting
 * worker passes channels to the others.
 *
 * <p>Threading: owned by the transport's worker thread, except {@link #handOff}, which the
 * accepting worker calls; the queue is many-to-one and the selector wakeup is thread-safe.
 */
final class Acceptor
{
    private static final int ACCEPTS_PER_TURN = 64;

    private final WorkerTransport transport;
    private final TcpServer server;
    private final Selector selector;
    private final ServerSocketChannel listener;
    private final ManyToOneConcurrentArrayQueue<SocketChannel> handOffs;
    private boolean listenerClosed;
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
     * @param maxConnections the owner's connection limit, which sizes the hand-off queue
     */
    Acceptor(final WorkerTransport transport, final TcpServer server, final Selector selector,
        final ServerSocketChannel listener, final int maxConnections) throws IOException
    {
        this.transport = transport;
        this.server = server;
        this.selector = selector;
        this.listener = listener;
        this.handOffs = new ManyToOneConcurrentArrayQueue<>(Math.max(16, maxConnections));
        if (listener != null)
        {
            listener.register(selector, SelectionKey.OP_ACCEPT, listener);
        }
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
                channel = listener.accept();
            }
            catch (final IOException ex)
            {
                transport.logError("accept failed", ex); // e.g. out of file descriptors: try again next turn
                return;
            }
            if (channel == null)
            {
                return;
            }
            final WorkerTransport target = server.acceptTarget(transport);
            if (target == transport || !target.handOff(channel))
            {
                transport.register(channel);
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

    /** Closes the channels handed over but not yet taken; later hand-offs are refused. */
    void closePending()
    {
        pendingClosed = true;
        SocketChannel pending;
        while ((pending = handOffs.poll()) != null)
        {
            WorkerTransport.closeQuietly(pending);
        }
    }
}
