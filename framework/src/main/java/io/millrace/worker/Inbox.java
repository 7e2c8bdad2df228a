package io.millrace.worker;

import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.EventPoller;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.WaitStrategy;
import io.millrace.stage.CancelToken;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A worker's inbox: a bounded multi-producer Disruptor ring, the poller and consumed sequence of its
 * single consumer, and the parking handshake that lets a producer wake a consumer about to sleep.
 *
 * <p>Threading: the owning worker thread alone polls, announces parking and clears it. Any thread
 * publishes, through the Disruptor's multi-producer protocol, and may then claim a wake.
 * {@link #parking} is written by the owner and cleared by a waking producer; {@link #wakes} is
 * added to by producers and read by metrics from any thread; {@link #depth()} may be read from
 * any thread.
 */
final class Inbox
{
    private static final VarHandle PARKING;
    private static final VarHandle WAKES;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            PARKING = lookup.findVarHandle(Inbox.class, "parking", int.class);
            WAKES = lookup.findVarHandle(Inbox.class, "wakes", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /**
     * The ring's wait strategy is never waited on: the owner polls with an {@link EventPoller} and
     * parks through the handshake below. What matters is its publish-side signal, which the
     * multi-producer sequencer calls on every publish: {@code BlockingWaitStrategy}, the default of
     * {@code createMultiProducer(factory, size)}, takes a monitor there. This one's signal is empty.
     */
    static final WaitStrategy WAIT_STRATEGY = new BusySpinWaitStrategy();

    private final RingBuffer<InboxEvent> ring;
    private final EventPoller<InboxEvent> poller;
    private final Sequence consumed;

    @SuppressWarnings("unused")
    private volatile int parking;
    @SuppressWarnings("unused")
    private volatile long wakes;

    /**
     * @param ringSize slots in the ring, a power of two
     */
    Inbox(final int ringSize)
    {
        this.ring = RingBuffer.createMultiProducer(InboxEvent::new, ringSize, WAIT_STRATEGY);
        this.poller = ring.newPoller();
        this.consumed = poller.getSequence();
        this.ring.addGatingSequences(consumed);
    }

    /**
     * Hands every published, unconsumed event to {@code handler}. Owner thread only.
     */
    void poll(final EventPoller.Handler<InboxEvent> handler) throws Exception
    {
        poller.poll(handler);
    }

    /**
     * Publishes an event from any thread, never waiting. The caller then decides whether to
     * {@link #claimWake()}.
     *
     * @return {@code false} if the ring had no free slot
     */
    boolean tryPublish(final int kind, final Object request, final Exchange<?> exchange, final int stage,
        final CancelToken token, final long submittedAt, final Throwable error)
    {
        final long sequence;
        try
        {
            sequence = ring.tryNext();
        }
        catch (final InsufficientCapacityException ex)
        {
            return false;
        }
        final InboxEvent event = ring.get(sequence);
        event.kind = kind;
        event.stage = stage;
        event.request = request;
        event.exchange = exchange;
        event.token = token;
        event.submittedAt = submittedAt;
        event.error = error;
        ring.publish(sequence);
        return true;
    }

    /**
     * Owner thread: announces that it may park, then looks once more; a producer that published
     * before seeing the announcement has advanced the cursor.
     *
     * @return {@code true} if the ring is still empty after the announcement
     */
    boolean announceParking()
    {
        // Volatile store then load of the cursor: the StoreLoad a producer's publish-fence-load pairs with.
        PARKING.setVolatile(this, 1);
        return ring.getCursor() == consumed.get();
    }

    /**
     * Owner thread, after parking: whether a producer took the announcement (and woke it). Only the
     * owner sets the flag and only {@link #claimWake()} clears it before the owner does.
     */
    boolean wakeClaimed()
    {
        return (int)PARKING.getVolatile(this) == 0;
    }

    /** Owner thread: withdraws the announcement after the idle turn. */
    void clearParking()
    {
        PARKING.setOpaque(this, 0);
    }

    /**
     * Producer, after a successful publish: takes the owner's parking announcement, if any, and
     * counts the wake. At most one producer wins it.
     *
     * @return {@code true} if the caller must wake the owner
     */
    boolean claimWake()
    {
        // The publish before this is a release store; without this fence the load below could be
        // reordered before it and miss a worker that announced parking after we looked.
        VarHandle.fullFence();
        if ((int)PARKING.getVolatile(this) == 1 && PARKING.compareAndSet(this, 1, 0))
        {
            WAKES.getAndAdd(this, 1L);
            return true;
        }
        return false;
    }

    /**
     * Shutdown, after the owner thread ended: hands every unconsumed event to {@code handler}, as the
     * owner would have. Safe only once the owner is joined (join orders its last writes before ours).
     */
    void drainAfterOwnerStopped(final EventPoller.Handler<InboxEvent> handler) throws Exception
    {
        while (poller.poll(handler) == EventPoller.PollState.PROCESSING)
        {
            Thread.onSpinWait(); // one batch per poll: go on until nothing published is left
        }
    }

    long depth()
    {
        return Math.max(0, ring.getCursor() - consumed.get());
    }

    int capacity()
    {
        return ring.getBufferSize();
    }

    long wakes()
    {
        return (long)WAKES.getVolatile(this);
    }
}
