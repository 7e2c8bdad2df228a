package io.millrace.net;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.FileRegionOwner;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Objects;

/**
 * One accepted TCP connection, owned by the worker whose selector it is registered with.
 *
 * <p>Threading: every method must be called on the owning worker thread (the one that runs the
 * {@link ConnectionHandler} callbacks, and stages placed with
 * {@code Placement.onWorker(r -> r.connection().workerIndex())}); the others throw. The exceptions are
 * {@link #id()}, {@link #workerIndex()} and {@link #remoteAddress()}, which never change. The
 * plain getters ({@link #isOpen()}, {@link #isWritable()}, {@link #inputEnded()},
 * {@link #isProcessing()}, {@link #pendingOutputBytes()}, {@link #attachment()}) do not check the thread, but what they
 * return is only meaningful on the owner. No field is shared, so nothing here takes a lock or a fence.
 *
 * <p>Buffers: bytes read land in {@link #inbound()}, a chain of pooled chunks that the handler
 * consumes. {@link #write(BufferChain)} takes over a chain and sends it with gathering writes;
 * {@link #sendFile} queues a file region sent with {@code transferTo} (sendfile). Output not yet
 * taken by the socket is queued; while it exceeds the server's cap, reading pauses, so a peer that
 * does not read cannot make the server buffer without bound. On close, by either side, every
 * buffer and queued file is released.
 */
public final class Connection
{
    private static final int NO_INTEREST = -1;

    private final WorkerTransport owner;
    private final SocketChannel channel;
    private final long id;
    private final SocketAddress remote;
    private final BufferChain inbound;
    private final BufferChain outbound;
    private final ArrayDeque<FileChannel> filesToClose = new ArrayDeque<>(2);
    private SelectionKey key;
    private int interest = NO_INTEREST;
    private boolean open = true;
    private boolean closeAfterFlush;
    private boolean inputEnded;
    /** Set by the handler while a request of this connection is in the pipeline; the idle sweep skips it then. */
    private boolean processing;
    private Object attachment;
    /** What this connection last added to the worker's pending-output gauge. */
    private long recordedPending;
    long lastActivityNanos;
    /** When the read deadline passes (the transport's clock), or 0 when none is armed. */
    long readDeadlineNanos;
    int slot = -1;
    /**
     * True from when the connection entered its worker's table until the transport gave its slot of
     * the server's {@link ConnectionLimit} back on close; clearing it is what makes the release once-only.
     */
    boolean holdsSlot;

    Connection(final WorkerTransport owner, final SocketChannel channel, final long id, final SocketAddress remote)
    {
        this.owner = owner;
        this.channel = channel;
        this.id = id;
        this.remote = remote;
        this.inbound = owner.allocator().newChain().touch("inbound of connection " + id);
        this.outbound = owner.allocator().newChain().touch("outbound of connection " + id);
    }

    void register(final SelectionKey selectionKey)
    {
        this.key = selectionKey;
        updateInterest();
    }

    /**
     * @return a number unique within the server
     */
    public long id()
    {
        return id;
    }

    /**
     * @return the index of the owning worker, for {@code Placement.onWorker}
     */
    public int workerIndex()
    {
        return owner.workerIndex();
    }

    /**
     * @return the peer's address
     */
    public SocketAddress remoteAddress()
    {
        return remote;
    }

    /**
     * @return the bytes read and not yet consumed; the connection keeps owning the chain, so
     *         consume with {@link BufferChain#removeFirst()} or {@link BufferDescriptor#skip(long)}
     *         and release only what you removed
     */
    public BufferChain inbound()
    {
        owner.checkThread("inbound()");
        return inbound;
    }

    /**
     * @return the owning worker's allocator, for building responses
     */
    public BufferAllocator allocator()
    {
        owner.checkThread("allocator()");
        return owner.allocator();
    }

    /**
     * @return whatever the handler attached, or null
     */
    public Object attachment()
    {
        return attachment;
    }

    /**
     * @param value per-connection state of the handler's
     */
    public void attach(final Object value)
    {
        owner.checkThread("attach()");
        attachment = value;
    }

    /**
     * @return false once closed
     */
    public boolean isOpen()
    {
        return open;
    }

    /**
     * @return true once the peer shut down its output (see {@link ConnectionHandler#onInputEnded});
     *         what was read before is still in {@link #inbound()}
     */
    public boolean inputEnded()
    {
        return inputEnded;
    }

    /**
     * Queues {@code chain}'s bytes for sending and sends what the socket takes now. The connection
     * takes over the chain's descriptors and releases the chain itself: do not use it afterwards.
     * On a closed connection the chain is simply released.
     *
     * @param chain the bytes to send, held by the caller alone
     */
    public void write(final BufferChain chain)
    {
        owner.checkThread("write()");
        if (!open)
        {
            chain.release();
            return;
        }
        outbound.append(chain);
        chain.release();
        flush();
    }

    /**
     * Queues {@code count} bytes of {@code file} from {@code position}, sent with
     * {@code FileChannel.transferTo} (sendfile): the bytes never enter the JVM. The connection
     * closes {@code file} once they are sent, or when it closes.
     *
     * @param file     an open file, handed over to the connection
     * @param position where to start
     * @param count    how many bytes
     */
    public void sendFile(final FileChannel file, final long position, final long count)
    {
        sendFile(null, file, position, count);
    }

    /**
     * Queues {@code head} and then a file region, and sends them with one flush: a response head
     * and its body never leave in two separate turns.
     *
     * @param head     bytes to send first, taken over like {@link #write(BufferChain)}; may be null
     * @param file     an open file, handed over to the connection
     * @param position where to start
     * @param count    how many bytes
     */
    public void sendFile(final BufferChain head, final FileChannel file, final long position, final long count)
    {
        owner.checkThread("sendFile()");
        if (!open)
        {
            if (head != null)
            {
                head.release();
            }
            WorkerTransport.closeQuietly(file);
            return;
        }
        if (head != null)
        {
            outbound.append(head);
            head.release();
        }
        filesToClose.add(file);
        outbound.append(owner.allocator().fileRegion(file, position, count));
        flush();
    }

    /**
     * Queues {@code head} and then a file region like {@link #sendFile(BufferChain, FileChannel, long, long)},
     * but the connection does not take the file: it calls {@code regionOwner.regionSent()} exactly once,
     * when the region's bytes have all been sent or when the connection drops it (closed before
     * they were, or closed already when this is called: then before this returns). The owner
     * keeps {@code file} open until then, and may lend the same channel to any number of regions
     * at once: a file cache's entry does, and implements {@link FileRegionOwner} itself so that
     * sending allocates nothing.
     *
     * @param head        bytes to send first, taken over like {@link #write(BufferChain)}; may be null
     * @param file        an open file that stays open until {@code regionOwner} is told
     * @param position    where to start
     * @param count       how many bytes
     * @param regionOwner told once that the region no longer uses {@code file}
     * @throws IllegalStateException off the connection's worker thread; then nothing was taken
     */
    public void sendFile(final BufferChain head, final FileChannel file, final long position, final long count,
        final FileRegionOwner regionOwner)
    {
        owner.checkThread("sendFile()");
        // Checked before anything is taken: a null owner could never be told, and its file never closed.
        Objects.requireNonNull(regionOwner, "regionOwner");
        boolean queued = false;
        try
        {
            if (head != null)
            {
                if (open)
                {
                    outbound.append(head);
                }
                head.release();
            }
            if (open)
            {
                outbound.append(owner.allocator().fileRegion(file, position, count, regionOwner));
                queued = true;
            }
        }
        finally
        {
            // Closed, or the region could not be made: it will never be sent, so the owner is told now.
            if (!queued)
            {
                regionOwner.regionSent();
            }
        }
        if (open)
        {
            flush();
        }
    }

    /**
     * @return bytes queued for sending, file regions included
     */
    public long pendingOutputBytes()
    {
        return open ? outbound.readableBytes() : 0;
    }

    /**
     * @return false while queued output is at or above the server's cap: hold back further
     *         responses until {@link ConnectionHandler#onWritable} (the transport stops reading then)
     */
    public boolean isWritable()
    {
        return open && outbound.readableBytes() < owner.maxPendingOutputBytes();
    }

    /**
     * Re-evaluates whether to read: call after consuming inbound bytes while reading was paused
     * because too many were waiting. Writing does this too.
     */
    public void resumeReading()
    {
        owner.checkThread("resumeReading()");
        updateInterest();
    }

    /**
     * Arms a read deadline, replacing any armed before: if it passes before
     * {@link #clearReadDeadline()}, the transport disarms it, counts a read timeout and calls
     * {@link ConnectionHandler#onReadTimeout}, whose default closes the connection. For a request
     * head that must arrive in time (slowloris). Checked every 50 ms, so it fires up to that late.
     *
     * @param timeoutNanos from now, at least 0
     */
    public void readDeadline(final long timeoutNanos)
    {
        owner.checkThread("readDeadline()");
        if (timeoutNanos < 0)
        {
            throw new IllegalArgumentException("readDeadline(" + timeoutNanos + "): the timeout must not be negative");
        }
        // 0 means "none armed", so a deadline that lands exactly on 0 moves by a nanosecond. (Not
        // Math.max(1, ...): System.nanoTime() may be negative, and then that would push the deadline
        // centuries away.)
        final long deadline = System.nanoTime() + timeoutNanos;
        readDeadlineNanos = deadline == 0 ? 1 : deadline;
    }

    /** Disarms the read deadline. */
    public void clearReadDeadline()
    {
        owner.checkThread("clearReadDeadline()");
        readDeadlineNanos = 0;
    }

    /**
     * Marks whether a request of this connection is being processed (in the pipeline). While it is,
     * the idle timeout does not close the connection: a slow request is bounded by its own timeout,
     * not by the silence on the socket meanwhile. When it ends, the idle clock restarts. A connection
     * {@linkplain #closeAfterFlush() closing after flush} is not protected: it processes nothing
     * more, and the idle timeout is what closes it when its peer stops reading.
     *
     * <p>One flag, not a count: with pipelined requests, keep it set until the last one in flight
     * completes. A request that never completes keeps its connection from idling out, so bound
     * requests with a timeout of their own.
     *
     * @param processing true while a request of this connection is in the pipeline
     */
    public void setProcessing(final boolean processing)
    {
        owner.checkThread("setProcessing()");
        if (this.processing && !processing)
        {
            lastActivityNanos = owner.now();
        }
        this.processing = processing;
    }

    /**
     * @return what {@link #setProcessing(boolean)} last set
     */
    public boolean isProcessing()
    {
        return processing;
    }

    /**
     * Closes once everything queued has been sent (at once if nothing is); stops reading now. A peer
     * that never reads what is queued cannot keep the connection: the idle timeout closes it once
     * nothing has been written for that long, whatever {@link #setProcessing(boolean)} says.
     */
    public void closeAfterFlush()
    {
        owner.checkThread("closeAfterFlush()");
        if (!open)
        {
            return;
        }
        closeAfterFlush = true;
        if (outbound.readableBytes() == 0)
        {
            close();
        }
        else
        {
            updateInterest();
        }
    }

    /** Closes now, dropping queued output; releases every buffer. Idempotent. */
    public void close()
    {
        owner.checkThread("close()");
        owner.close(this, 0);
    }

    // ------------------------------------------------------------------ the worker's side

    /**
     * Reads once.
     *
     * @return bytes read, 0 if none (or no room), -1 when the peer's input ended with this read
     */
    long onReadable(final int maxReadBytes) throws IOException
    {
        final int room = maxReadBytes - (int)Math.min(Integer.MAX_VALUE, inbound.readableBytes());
        if (room <= 0)
        {
            updateInterest();
            return 0;
        }
        final long n = inbound.readFrom(channel, owner.allocator(), room);
        if (n < 0)
        {
            // The peer will send no more, but may still read: the handler decides when to close.
            inputEnded = true;
            updateInterest();
        }
        else if (n > 0)
        {
            owner.counters().add(TransportCounters.BYTES_READ, n);
            lastActivityNanos = owner.now();
        }
        return n;
    }

    /** Sends what the socket takes; closes on error or when a requested close is due. */
    void flush()
    {
        final long before = outbound.readableBytes();
        if (before > 0)
        {
            try
            {
                final long written = outbound.writeTo(channel);
                if (written > 0)
                {
                    owner.counters().add(TransportCounters.BYTES_WRITTEN, written);
                    lastActivityNanos = owner.now();
                }
            }
            catch (final IOException ex)
            {
                owner.close(this, TransportCounters.IO_ERRORS);
                return;
            }
        }
        final long after = outbound.readableBytes();
        final boolean drained = recordedPending >= owner.maxPendingOutputBytes() && after < owner.maxPendingOutputBytes();
        owner.counters().add(TransportCounters.PENDING_OUTPUT, after - recordedPending);
        recordedPending = after;
        owner.counters().max(TransportCounters.MAX_PENDING_OUTPUT, before);
        if (after == 0)
        {
            while (!filesToClose.isEmpty())
            {
                WorkerTransport.closeQuietly(filesToClose.poll());
            }
            if (closeAfterFlush)
            {
                owner.close(this, 0);
                return;
            }
        }
        updateInterest();
        if (drained)
        {
            owner.drained(this);
        }
    }

    /** Reads while there is room for input and the queued output is under the cap; writes while output waits. */
    void updateInterest()
    {
        if (!open || key == null)
        {
            return;
        }
        final long pending = outbound.readableBytes();
        final boolean read = !closeAfterFlush && !inputEnded && pending < owner.maxPendingOutputBytes() &&
            inbound.readableBytes() < owner.maxInboundBytes();
        final int ops = (read ? SelectionKey.OP_READ : 0) | (pending > 0 ? SelectionKey.OP_WRITE : 0);
        if (ops != interest)
        {
            final boolean capped = pending >= owner.maxPendingOutputBytes() || inbound.readableBytes() >= owner.maxInboundBytes();
            if (interest != NO_INTEREST && (interest & SelectionKey.OP_READ) != 0 && !read && capped)
            {
                // Backpressure, not a close or the end of input.
                owner.counters().add(TransportCounters.READ_PAUSES, 1);
            }
            interest = ops;
            key.interestOps(ops);
        }
    }

    /**
     * Releases everything; called once by the transport, which also closes the channel. Each chain
     * and file is let go on its own, so that one failing (a handler that released a chain the
     * connection owns) does not leak the rest.
     *
     * @return the first failure, with later ones suppressed in it, or null; the caller decides
     *         whether it is contained (see {@link io.millrace.worker.Fatal})
     */
    Throwable releaseAll()
    {
        open = false;
        owner.counters().add(TransportCounters.PENDING_OUTPUT, -recordedPending);
        recordedPending = 0;
        Throwable failure = release(inbound, null);
        failure = release(outbound, failure);
        while (!filesToClose.isEmpty())
        {
            WorkerTransport.closeQuietly(filesToClose.poll());
        }
        if (key != null)
        {
            key.cancel();
        }
        return failure;
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

    SocketChannel channel()
    {
        return channel;
    }

    /** @return true once {@link #closeAfterFlush()} was called: the connection only finishes sending */
    boolean closing()
    {
        return closeAfterFlush;
    }

    @Override
    public String toString()
    {
        return "connection " + id + " from " + remote + " on worker " + owner.workerIndex();
    }
}
