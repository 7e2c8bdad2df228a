package io.millrace.bench;

import com.lmax.disruptor.EventPoller;
import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import io.millrace.Idle;
import org.agrona.concurrent.IdleStrategy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * The raw Disruptor hand-off that Millrace's ring hop is measured against: two consumer threads,
 * each polling its own ring with an {@link EventPoller}, passing a request back and forth through
 * {@code stages} stage functions. Ring 0 has two producers (the benchmark thread and consumer 1);
 * ring 1 has one (consumer 0). Idling uses the same Agrona strategies as Millrace's workers, and a
 * consumer that may park announces it so the producer can unpark it — without that, a backed-off
 * consumer would sleep out its park period and the comparison would flatter Millrace. What is left
 * out is everything Millrace adds: admission gate, request context, outcome checks, service-time
 * recording, metrics.
 */
final class RawHandoff implements AutoCloseable
{
    /** Ring slot. */
    static final class Slot
    {
        Request request;
        int stage;
    }

    private static final VarHandle PARKING;

    static
    {
        try
        {
            PARKING = MethodHandles.lookup().findVarHandle(Consumer.class, "parking", int.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final Consumer[] consumers = new Consumer[2];
    private final int stages;
    private volatile boolean running = true;

    RawHandoff(final Idle idle, final int stages)
    {
        this.stages = stages;
        consumers[0] = new Consumer(0, RingBuffer.createMultiProducer(Slot::new, 1024, new BusySpinWaitStrategy()), idle);
        consumers[1] = new Consumer(1, RingBuffer.createSingleProducer(Slot::new, 1024, new BusySpinWaitStrategy()), idle);
        for (final Consumer c : consumers)
        {
            c.thread.start();
        }
    }

    long run(final Batch batch)
    {
        batch.start();
        for (final Request request : batch.requests)
        {
            consumers[0].publish(request, 0);
        }
        return batch.await();
    }

    @Override
    public void close() throws InterruptedException
    {
        running = false;
        for (final Consumer c : consumers)
        {
            LockSupport.unpark(c.thread);
            c.thread.join(5_000);
        }
    }

    private final class Consumer implements EventPoller.Handler<Slot>
    {
        final RingBuffer<Slot> ring;
        final EventPoller<Slot> poller;
        final Sequence consumed;
        final IdleStrategy idle;
        final long emptyTurnsBeforePark;
        final Thread thread;
        @SuppressWarnings("unused")
        volatile int parking;
        int handled;

        Consumer(final int index, final RingBuffer<Slot> ring, final Idle idle)
        {
            this.ring = ring;
            this.poller = ring.newPoller();
            this.consumed = poller.getSequence();
            ring.addGatingSequences(consumed);
            this.idle = idle.newStrategy();
            this.emptyTurnsBeforePark = idle.emptyTurnsBeforePark();
            this.thread = new Thread(this::loop, "raw-consumer-" + index);
            this.thread.setDaemon(true);
        }

        void publish(final Request request, final int stage)
        {
            final long seq = ring.next();
            final Slot slot = ring.get(seq);
            slot.request = request;
            slot.stage = stage;
            ring.publish(seq);
            VarHandle.fullFence();
            if ((int)PARKING.getVolatile(this) == 1 && PARKING.compareAndSet(this, 1, 0))
            {
                LockSupport.unpark(thread);
            }
        }

        private void loop()
        {
            long empty = 0;
            while (running)
            {
                handled = 0;
                try
                {
                    poller.poll(this);
                }
                catch (final Exception ex)
                {
                    throw new IllegalStateException(ex);
                }
                if (handled > 0)
                {
                    empty = 0;
                    idle.reset();
                }
                else if (++empty <= emptyTurnsBeforePark)
                {
                    idle.idle();
                }
                else
                {
                    PARKING.setVolatile(this, 1);
                    if (ring.getCursor() == consumed.get() && running)
                    {
                        idle.idle();
                    }
                    PARKING.setOpaque(this, 0);
                }
            }
        }

        @Override
        public boolean onEvent(final Slot slot, final long sequence, final boolean endOfBatch)
        {
            handled++;
            final Request request = slot.request;
            final int stage = slot.stage;
            slot.request = null;
            request.value = Request.step(request.value);
            if (stage + 1 < stages)
            {
                consumers[(stage + 1) & 1].publish(request, stage + 1);
            }
            else
            {
                request.done();
            }
            return true;
        }
    }
}
