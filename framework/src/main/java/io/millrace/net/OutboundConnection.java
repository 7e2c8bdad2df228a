package io.millrace.net;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.stage.WorkerTimers;

import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A TCP connection from a worker to an upstream, opened or taken from the pool by
 * {@link OutboundConnections#acquire} and given back with {@link OutboundConnections#release}. Between
 * the two it is <em>leased</em>: its {@link OutboundHandler} receives its callbacks and its holder may
 * write, read, pause and close it. Released as reusable, it waits idle in its worker's pool for the
 * next lease to the same address, the same object.
 *
 * <p>Threading: every method must be called on the owning worker thread (the one that runs the
 * handler's callbacks; from a stage, place it with {@code Placement.onWorker} on
 * {@link #workerIndex()}); the others throw. {@link #id()}, {@link #workerIndex()} and
 * {@link #address()} never change and may be read anywhere; the other getters do not check the thread,
 * but what they return is only meaningful on the owner. No field is shared, so nothing takes a lock.
 *
 * <p>A holder must not touch the connection after its lease ended (after {@code release}, {@code close},
 * {@code abort}, or the handler's {@code onConnectFailed} or {@code onClosed}): a released connection may
 * already serve another lease. Calls on a connection idle in the pool throw; calls on a closed one do
 * nothing (a chain passed to {@link #write} is released).
 *
 * <p>Buffers are those of the inbound side: bytes read land in {@link #inbound()}, a chain of the
 * worker's pooled chunks; {@link #write(BufferChain)} takes over a chain and sends it with gathering
 * writes, queuing what the socket does not take. On close every buffer is released.
 */
public final class OutboundConnection
{
    static final int CONNECTING = 1;
    static final int ACTIVE = 2;
    static final int IDLE = 3;
    static final int CLOSED = 4;

    /** Deferred callbacks ({@link OutboundConnections} delivers them in its loop), as bits of {@link #notices}. */
    static final int NOTICE_CONNECTED = 1;
    static final int NOTICE_CONNECT_FAILED = 2;
    static final int NOTICE_WRITABLE = 4;
    static final int NOTICE_CLOSED = 8;

    private static final int NO_INTEREST = -1;

    final OutboundConnections owner;
    /** Null only when opening the socket itself failed (the connect then fails with {@link ConnectFailure#ERROR}). */
    final SocketChannel channel;
    private final long id;
    final UpstreamPool pool;
    final BufferChain inbound;
    final BufferChain outbound;
    /** One callback object per connection for its one timer at a time: the connect timeout, then the read timeout. */
    final WorkerTimers.Callback timer = this::onTimer;
    final long createdNanos;
    SelectionKey key;
    int state;
    private int interest = NO_INTEREST;

    // ---- the lease: reset by startLease
    OutboundHandler handler;
    private Object attachment;
    boolean reused;
    long bytesReceived;
    /** Leases so far, this one included. */
    int requests;
    boolean readingPaused;
    boolean writable = true;
    long readTimeoutNanos;
    long readDeadlineNanos;

    // ---- timers, notices and bookkeeping of the owner
    long timerId;
    long timerDeadlineNanos;
    long idleSinceNanos;
    long recordedPending;
    int notices;
    boolean queued;
    ConnectFailure failure;
    Exception failureDetail;
    OutboundCloseCause closeCause;
    boolean staleReuse;
    boolean buffersReleased;
    int slot = -1;
    OutboundConnection newerIdle;
    OutboundConnection olderIdle;
    boolean inPool;

    OutboundConnection(final OutboundConnections owner, final SocketChannel channel, final long id, final UpstreamPool pool,
        final long nowNanos)
    {
        this.owner = owner;
        this.channel = channel;
        this.id = id;
        this.pool = pool;
        this.createdNanos = nowNanos;
        this.inbound = owner.allocator().newChain().touch("inbound of outbound connection " + id);
        this.outbound = owner.allocator().newChain().touch("outbound of outbound connection " + id);
    }

    /**
     * @return a number unique within the server (shared with its accepted connections)
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
     * @return the upstream's address, as passed to {@code acquire}
     */
    public InetSocketAddress address()
    {
        return pool.address;
    }

    /**
     * @return the bytes read and not yet consumed in this lease; the connection keeps owning the chain,
     *         so consume with {@link BufferChain#removeFirst()} or {@link BufferDescriptor#skip(long)}
     *         and release only what you removed
     */
    public BufferChain inbound()
    {
        owner.checkThread("inbound()");
        return inbound;
    }

    /**
     * @return the owning worker's allocator, for building requests
     */
    public BufferAllocator allocator()
    {
        owner.checkThread("allocator()");
        return owner.allocator();
    }

    /**
     * @return what the holder attached in this lease, or null (cleared when the lease ends)
     */
    public Object attachment()
    {
        return attachment;
    }

    /**
     * @param value the holder's state for this lease
     */
    public void attach(final Object value)
    {
        owner.checkHeld(this, "attach()");
        attachment = value;
    }

    /**
     * @return true from the connect's success until the connection closes, leased or idle
     */
    public boolean isConnected()
    {
        return state == ACTIVE || state == IDLE;
    }

    /**
     * @return false once closed
     */
    public boolean isOpen()
    {
        return state != CLOSED;
    }

    /**
     * @return true if this lease got the connection from the pool (it served an earlier lease), false if
     *         it was connected for this lease
     */
    public boolean reused()
    {
        return reused;
    }

    /**
     * @return bytes read from the upstream in this lease; 0 on a {@link #reused()} connection that then
     *         fails is the retry signal (see {@link OutboundHandler#onClosed})
     */
    public long bytesReceived()
    {
        return bytesReceived;
    }

    /**
     * @return leases this connection has served, this one included (1 on a fresh connection)
     */
    public int requests()
    {
        return requests;
    }

    /**
     * Queues {@code chain}'s bytes and sends what the socket takes now; while connecting, they are sent
     * once connected. The connection takes over the chain's descriptors and releases the chain itself:
     * do not use it afterwards. On a closed connection the chain is simply released.
     *
     * @param chain the bytes to send, held by the caller alone
     * @throws IllegalStateException if the connection is idle in the pool (the chain is released first)
     */
    public void write(final BufferChain chain)
    {
        owner.checkThread("write()");
        if (state == CLOSED)
        {
            chain.release();
            return;
        }
        if (state == IDLE)
        {
            chain.release();
            owner.checkHeld(this, "write()"); // throws, naming the misuse
        }
        outbound.append(chain);
        chain.release();
        owner.flush(this, false);
    }

    /**
     * @return bytes queued for sending
     */
    public long pendingOutputBytes()
    {
        return state == CLOSED || buffersReleased ? 0 : outbound.readableBytes();
    }

    /**
     * @return false from when queued output reached the high watermark until it fell to the low one
     *         ({@link OutboundHandler#onWritable} then runs): hold back what you would write, such as the
     *         rest of a client's upload, meanwhile
     */
    public boolean isWritable()
    {
        return state != CLOSED && writable;
    }

    /**
     * Stops reading from the upstream until {@link #resumeReading()}, whatever room the inbound chain
     * has: a proxy whose client reads slowly stops taking the response. The read timeout does not run
     * while reading is paused.
     */
    public void pauseReading()
    {
        owner.checkHeld(this, "pauseReading()");
        readingPaused = true;
        updateInterest();
    }

    /**
     * Reads again after {@link #pauseReading()}, and re-evaluates the room for input: call it too after
     * consuming inbound bytes while reading had paused because {@link OutboundOptions#maxInboundBytes} were waiting.
     */
    public void resumeReading()
    {
        owner.checkHeld(this, "resumeReading()");
        readingPaused = false;
        updateInterest();
    }

    /**
     * Sets this lease's read timeout, replacing the default each lease starts with
     * ({@link OutboundOptions#readTimeout}): no byte for this long, while reading is not paused, closes
     * the connection with {@link OutboundCloseCause#READ_TIMEOUT}. The clock restarts now and with every
     * read. Set while connecting, it starts once connected.
     *
     * @param timeoutNanos at least 0; 0 for none
     */
    public void readTimeout(final long timeoutNanos)
    {
        owner.checkHeld(this, "readTimeout()");
        if (timeoutNanos < 0)
        {
            throw new IllegalArgumentException("readTimeout(" + timeoutNanos + "): the timeout must not be negative (0 for none)");
        }
        owner.armReadTimeout(this, timeoutNanos);
    }

    /**
     * Closes now with a FIN, dropping queued output, and ends the lease; no callback follows. Idempotent.
     */
    public void close()
    {
        owner.closeByHolder(this, false, "close()");
    }

    /**
     * Closes now with a reset ({@code SO_LINGER} 0) rather than a FIN, dropping queued output, and ends
     * the lease; no callback follows. For a response the holder abandons: the upstream learns at once
     * and stops sending. Idempotent.
     */
    public void abort()
    {
        owner.closeByHolder(this, true, "abort()");
    }

    // ------------------------------------------------------------------ the owner's side

    /** Resets the lease state for a new holder. */
    void startLease(final OutboundHandler h, final boolean fromPool)
    {
        handler = h;
        attachment = null;
        reused = fromPool;
        bytesReceived = 0;
        requests++;
        readingPaused = false;
        writable = true;
        notices = 0;
    }

    /** Ends the lease: no callback reaches the old holder after this. */
    void endLease()
    {
        handler = null;
        attachment = null;
        notices = 0;
        failureDetail = null;
    }

    /** True while nothing may be read: the holder paused, or the unconsumed input is at its cap. */
    boolean readBlocked()
    {
        return readingPaused || inbound.readableBytes() >= owner.maxInboundBytes();
    }

    /**
     * Connecting: connect readiness. Leased: reading unless paused or full, writing while output waits.
     * Idle: reading, so that an upstream's close (or stray bytes) is seen at once.
     */
    void updateInterest()
    {
        if (key == null || state == CLOSED)
        {
            return;
        }
        final int ops = switch (state)
        {
            case CONNECTING -> SelectionKey.OP_CONNECT;
            case IDLE -> SelectionKey.OP_READ;
            default -> (readBlocked() ? 0 : SelectionKey.OP_READ) | (outbound.readableBytes() > 0 ? SelectionKey.OP_WRITE : 0);
        };
        if (ops != interest)
        {
            interest = ops;
            key.interestOps(ops);
        }
    }

    private void onTimer(final long firedId, final long nowNanos)
    {
        owner.timerFired(this, firedId, nowNanos);
    }

    private String stateName()
    {
        return switch (state)
        {
            case CONNECTING -> "connecting";
            case ACTIVE -> "leased";
            case IDLE -> "idle";
            default -> "closed";
        };
    }

    @Override
    public String toString()
    {
        return "outbound connection " + id + " to " + pool.address + " on worker " + owner.workerIndex() + " (" + stateName() +
            ", " + requests + " leases)";
    }
}
