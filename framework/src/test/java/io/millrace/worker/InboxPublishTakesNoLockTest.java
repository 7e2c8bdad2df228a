package io.millrace.worker;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.WaitStrategy;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The inbox ring's wait strategy is signalled on every publish. The Disruptor's default for
 * {@code createMultiProducer(factory, size)}, {@link BlockingWaitStrategy}, takes a monitor there
 * (notifyAll under synchronized) although the worker never waits on it: every hop paid a lock.
 */
class InboxPublishTakesNoLockTest
{
    @Test
    void theInboxRingIsBuiltWithAWaitStrategyWhoseSignalTakesNoMonitor() throws Exception
    {
        final Inbox inbox = new Inbox(64);
        final Field ringField = Inbox.class.getDeclaredField("ring");
        ringField.setAccessible(true);
        final RingBuffer<?> ring = (RingBuffer<?>)ringField.get(inbox);
        final WaitStrategy used = waitStrategyOf(ring);
        assertFalse(used instanceof BlockingWaitStrategy, "publish would take a monitor: " + used);
        assertInstanceOf(BusySpinWaitStrategy.class, used);
        assertSame(Inbox.WAIT_STRATEGY, used);
    }

    private static WaitStrategy waitStrategyOf(final RingBuffer<?> ring) throws ReflectiveOperationException
    {
        final Field sequencerField = RingBuffer.class.getSuperclass().getDeclaredField("sequencer");
        sequencerField.setAccessible(true);
        final Object sequencer = sequencerField.get(ring);
        Class<?> c = sequencer.getClass();
        while (c != null)
        {
            try
            {
                final Field f = c.getDeclaredField("waitStrategy");
                f.setAccessible(true);
                return (WaitStrategy)f.get(sequencer);
            }
            catch (final NoSuchFieldException ex)
            {
                c = c.getSuperclass();
            }
        }
        throw new NoSuchFieldException("waitStrategy");
    }
}
