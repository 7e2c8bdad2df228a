package io.millrace.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Turns an accepted channel away: over the connection limit, or after intake stopped. Without a
 * {@linkplain TcpServerBuilder#refusalMessage(byte[]) refusal message} the channel is simply closed.
 * With one, the peer gets the message and an orderly end of stream instead of a bare close:
 *
 * <ol>
 *   <li>one non-blocking write of the message: what the fresh socket's send buffer takes (all of a
 *       short message), never a wait and never a queue, so a flood of refused peers costs the worker
 *       a few system calls each and no memory;</li>
 *   <li>{@code shutdownOutput}: the FIN follows the message;</li>
 *   <li>a bounded, non-blocking drain of what the peer already sent (typically its request), because
 *       closing a socket with unread input makes the kernel answer with a reset, and a reset can make
 *       the peer's stack drop the message before its application reads it;</li>
 *   <li>close. Bytes the peer sends after the drain, or beyond its bound, may still draw a reset, but
 *       by then the message and the FIN are on their way. A full lingering close (keeping the socket
 *       until the peer's FIN, with a timer) would cost a table entry per refused peer, which is what
 *       refusing is meant to avoid.</li>
 * </ol>
 *
 * <p>Threading: one per {@link WorkerTransport}, used on its worker thread only; the message buffer
 * is this worker's own view of the server's bytes.
 */
final class Refusal
{
    /** At most this much of what the peer sent is read and dropped before closing. */
    private static final int MAX_DRAIN_BYTES = 64 * 1024;

    /** The message (position and limit are this worker's), or null for a plain close. */
    private final ByteBuffer message;
    /** Where drained input goes, then dropped; made on this worker's first refusal with a message. */
    private ByteBuffer drain;

    /**
     * @param message the server's refusal message, shared read-only; null or empty for none
     */
    Refusal(final ByteBuffer message)
    {
        this.message = message != null && message.capacity() > 0 ? message.duplicate() : null;
    }

    /** Tells the peer of {@code channel} it is refused, if there is a message, and closes it. Never blocks. */
    void refuse(final SocketChannel channel)
    {
        if (message == null)
        {
            WorkerTransport.closeQuietly(channel);
            return;
        }
        try
        {
            channel.configureBlocking(false); // accepted channels start blocking
            message.clear();
            channel.write(message);
            channel.shutdownOutput();
            drainInput(channel);
        }
        catch (final IOException ex)
        {
            // The peer is gone or the socket failed: there is no one left to tell.
        }
        finally
        {
            WorkerTransport.closeQuietly(channel);
        }
    }

    private void drainInput(final SocketChannel channel) throws IOException
    {
        if (drain == null)
        {
            drain = ByteBuffer.allocateDirect(16 * 1024);
        }
        int drained = 0;
        while (drained < MAX_DRAIN_BYTES)
        {
            drain.clear();
            final int n = channel.read(drain);
            if (n <= 0)
            {
                return; // nothing more now, or the peer's FIN
            }
            drained += n;
        }
    }
}
