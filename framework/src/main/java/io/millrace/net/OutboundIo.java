package io.millrace.net;

import io.millrace.memory.BufferChain;
import io.millrace.memory.SlabExhaustedException;
import io.millrace.worker.Fatal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;

/**
 * The selector side of one worker's outbound connections: ready keys (connect, read, write), the
 * probe of idle pooled connections, gathering writes with the write watermarks, and the release of a
 * closed connection's buffers. Reads land in the worker's pooled chunks exactly as on the inbound side
 * ({@link BufferChain#readFrom}); writes are the same gathering writes ({@link BufferChain#writeTo}).
 *
 * <p>Threading: owned by the worker thread; nothing here is shared.
 */
final class OutboundIo
{
    private final OutboundConnections owner;
    private final OutboundCounters counters;
    private final OutboundOptions options;
    /**
     * Where an idle connection's probe read lands. Anything read while idle (bytes nobody asked for, or
     * the end of stream) condemns the connection, so one small buffer serves them all; direct, so the
     * read needs no temporary copy.
     */
    private final ByteBuffer probe = ByteBuffer.allocateDirect(64);

    OutboundIo(final OutboundConnections owner, final OutboundCounters counters, final OutboundOptions options)
    {
        this.owner = owner;
        this.counters = counters;
        this.options = options;
    }

    /** A key of {@code c} is ready. Contains everything but fatal errors: a failure here sheds {@code c} only. */
    void onKey(final SelectionKey key, final OutboundConnection c)
    {
        try
        {
            onReady(key, c);
        }
        catch (final Throwable ex)
        {
            // Handler callbacks contain their own errors; this is the transport failing on one
            // connection (a bug, or a JDK surprise).
            Fatal.rethrowIfFatal(ex);
            owner.transport().logFailure("handling a ready key of " + c + " failed; closing it", ex);
            owner.lifecycle().close(c, OutboundCloseCause.IO_ERROR, OutboundLifecycle.NOW, false);
        }
    }

    private void onReady(final SelectionKey key, final OutboundConnection c)
    {
        if (!key.isValid() || c.state == OutboundConnection.CLOSED)
        {
            return;
        }
        if (c.notices != 0 && c.state == OutboundConnection.ACTIVE)
        {
            // A lease granted during this select (by a callback of another connection) hears of it
            // before anything that happens on it.
            owner.callbacks().deliver(c);
        }
        switch (c.state)
        {
            case OutboundConnection.CONNECTING ->
            {
                if (key.isConnectable())
                {
                    finishConnect(c);
                }
            }
            case OutboundConnection.IDLE ->
            {
                if (key.isReadable())
                {
                    probeIdle(c);
                }
            }
            case OutboundConnection.ACTIVE ->
            {
                if (key.isWritable())
                {
                    flush(c, true);
                }
                if (c.state == OutboundConnection.ACTIVE && key.isReadable())
                {
                    read(c);
                }
            }
            default ->
            {
            }
        }
    }

    private void finishConnect(final OutboundConnection c)
    {
        try
        {
            if (!c.channel.finishConnect())
            {
                return; // not yet: a spurious wakeup
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            owner.lifecycle().failConnect(c, OutboundLifecycle.classify(ex), ex, OutboundLifecycle.NOW);
            return;
        }
        owner.lifecycle().connected(c, OutboundLifecycle.NOW);
    }

    private void read(final OutboundConnection c)
    {
        final int room = options.maxInboundBytes() - (int)Math.min(Integer.MAX_VALUE, c.inbound.readableBytes());
        if (room <= 0 || c.readingPaused)
        {
            c.updateInterest();
            return;
        }
        final long n;
        try
        {
            n = c.inbound.readFrom(c.channel, owner.allocator(), room);
        }
        catch (final IOException ex)
        {
            owner.lifecycle().close(c, OutboundCloseCause.IO_ERROR, OutboundLifecycle.NOW, false);
            return;
        }
        catch (final SlabExhaustedException ex)
        {
            // No chunk for this connection's bytes: shed it rather than grow memory.
            owner.transport().logError("out of buffers; closing " + c, ex);
            owner.lifecycle().close(c, OutboundCloseCause.IO_ERROR, OutboundLifecycle.NOW, false);
            return;
        }
        if (n < 0)
        {
            owner.lifecycle().close(c, OutboundCloseCause.PEER_CLOSED, OutboundLifecycle.NOW, false);
            return;
        }
        if (n == 0)
        {
            return;
        }
        counters.add(OutboundCounters.BYTES_READ, n);
        c.bytesReceived += n;
        if (c.readTimeoutNanos > 0)
        {
            // The only cost of the read timeout per read: the timer notices the new deadline when it fires.
            c.readDeadlineNanos = OutboundLifecycle.saturatedAdd(System.nanoTime(), c.readTimeoutNanos);
        }
        if (owner.callbacks().call(c, OutboundCallbacks.ON_DATA) && c.state == OutboundConnection.ACTIVE)
        {
            c.updateInterest();
        }
    }

    /**
     * An idle pooled connection became readable: the upstream closed it, reset it, or sent bytes nobody
     * asked for. Any of them and it is dropped before a request is sent on it; nothing read means a
     * spurious wakeup.
     */
    private void probeIdle(final OutboundConnection c)
    {
        int n;
        try
        {
            probe.clear();
            n = c.channel.read(probe);
        }
        catch (final IOException ex)
        {
            n = -1;
        }
        if (n != 0)
        {
            owner.lifecycle().close(c, OutboundCloseCause.STALE_IN_POOL, OutboundLifecycle.SILENT, false);
        }
    }

    /**
     * Sends what the socket takes (nothing while connecting), then applies the write watermarks. From the
     * loop ({@code fromLoop}) the holder is told of a drain or a failure at once; from the holder's own
     * {@code write}, in the next delivery.
     */
    void flush(final OutboundConnection c, final boolean fromLoop)
    {
        final long before = c.outbound.readableBytes();
        if (before > 0 && c.state == OutboundConnection.ACTIVE)
        {
            try
            {
                final long written = c.outbound.writeTo(c.channel);
                if (written > 0)
                {
                    counters.add(OutboundCounters.BYTES_WRITTEN, written);
                }
            }
            catch (final IOException ex)
            {
                owner.lifecycle().close(c, OutboundCloseCause.IO_ERROR, fromLoop ? OutboundLifecycle.NOW : OutboundLifecycle.LATER,
                    false);
                return;
            }
        }
        final long after = c.outbound.readableBytes();
        counters.add(OutboundCounters.PENDING_OUTPUT, after - c.recordedPending);
        c.recordedPending = after;
        boolean drained = false;
        if (c.writable && after >= options.writeHighWatermark())
        {
            c.writable = false;
            counters.add(OutboundCounters.WRITE_PAUSES, 1);
        }
        else if (!c.writable && after <= options.writeLowWatermark())
        {
            c.writable = true;
            drained = true;
        }
        c.updateInterest();
        if (drained)
        {
            if (fromLoop)
            {
                owner.callbacks().call(c, OutboundCallbacks.ON_WRITABLE);
            }
            else
            {
                owner.callbacks().notice(c, OutboundConnection.NOTICE_WRITABLE);
            }
        }
    }

    /**
     * Releases a closed connection's two chains, once. Each is let go on its own, so that one failing (a
     * holder that released a chain the connection owns) does not leak the other; a failure is logged.
     */
    void releaseBuffers(final OutboundConnection c)
    {
        if (c.buffersReleased || c.state != OutboundConnection.CLOSED)
        {
            return;
        }
        c.buffersReleased = true;
        Throwable failure = release(c.inbound, null);
        failure = release(c.outbound, failure);
        if (failure != null)
        {
            Fatal.rethrowIfFatal(failure);
            owner.transport().logFailure("releasing the buffers of " + c + " failed; the connection is closed anyway (did a " +
                "handler release a chain the connection owns, such as inbound()? release only what you removed from it)", failure);
        }
    }

    private static Throwable release(final BufferChain chain, final Throwable earlier)
    {
        try
        {
            chain.release();
            return earlier;
        }
        catch (final Throwable ex)
        {
            if (earlier == null)
            {
                return ex;
            }
            earlier.addSuppressed(ex);
            return earlier;
        }
    }
}
