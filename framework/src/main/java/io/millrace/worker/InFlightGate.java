package io.millrace.worker;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Admission control: counts accepted, not yet completed requests and holds the closed flag, in one
 * word so that "closed" and "one more in flight" cannot race.
 *
 * <p>The bound is what makes internal hops safe: every in-flight request occupies at most one live
 * slot in one ring, plus at most one stale slot in the ring of the worker still finishing the batch
 * it came from. With {@code maxInFlight <= ringSize / 2} a worker's publish into another worker's
 * ring therefore always finds room, so only intake can be refused.
 *
 * <p>Written by submitting threads (acquire) and completing workers (release); padded so the hot
 * word shares its cache line with nothing else.
 */
final class InFlightGate extends InFlightGateValue
{
    static final int OK = 0;
    static final int FULL = 1;
    static final int CLOSED = 2;

    private static final long CLOSED_BIT = 1L << 62;
    /** Bits 31..61: submits admitted by a foreign thread and not yet published into a ring. */
    private static final int PUBLISHING_SHIFT = 31;
    private static final long PUBLISHING_UNIT = 1L << PUBLISHING_SHIFT;
    /** Bits 0..30: requests in flight. */
    private static final long COUNT_MASK = PUBLISHING_UNIT - 1;
    private static final VarHandle VALUE;

    static
    {
        try
        {
            VALUE = MethodHandles.lookup().findVarHandle(InFlightGateValue.class, "value", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final long max;

    @SuppressWarnings("unused")
    private long p10, p11, p12, p13, p14, p15, p16;

    InFlightGate(final long max)
    {
        this.max = max;
        value = CLOSED_BIT;
    }

    int tryAcquire()
    {
        return tryAcquire(1);
    }

    /**
     * Admits a request that the caller will publish into a ring from outside the workers: counts it
     * in flight and as publishing, in one CAS. The shutdown sweep waits for the publishing count to
     * fall to zero before it drains the rings, so that no admitted submit lands in a ring after the
     * sweep (the submitter may be descheduled, or inside the entry key function, in between).
     * Call {@link #published()} once the publish is done or abandoned.
     */
    int tryAcquirePublishing()
    {
        return tryAcquire(1 + PUBLISHING_UNIT);
    }

    /** The publish that {@link #tryAcquirePublishing()} announced is done (or abandoned). */
    void published()
    {
        VALUE.getAndAdd(this, -PUBLISHING_UNIT);
    }

    /**
     * @return submits admitted and not yet published
     */
    long publishing()
    {
        return ((long)VALUE.getVolatile(this) & ~CLOSED_BIT) >>> PUBLISHING_SHIFT;
    }

    private int tryAcquire(final long delta)
    {
        for (;;)
        {
            final long v = (long)VALUE.getVolatile(this);
            if ((v & CLOSED_BIT) != 0)
            {
                return CLOSED;
            }
            if ((v & COUNT_MASK) >= max)
            {
                return FULL;
            }
            if (VALUE.compareAndSet(this, v, v + delta))
            {
                return OK;
            }
        }
    }

    void release()
    {
        VALUE.getAndAdd(this, -1L);
    }

    void open()
    {
        VALUE.getAndBitwiseAnd(this, ~CLOSED_BIT);
    }

    /**
     * @return the in-flight count at the moment intake closed
     */
    long close()
    {
        return (long)VALUE.getAndBitwiseOr(this, CLOSED_BIT) & COUNT_MASK;
    }

    long inFlight()
    {
        return (long)VALUE.getVolatile(this) & COUNT_MASK;
    }

    long max()
    {
        return max;
    }
}

/** Left padding. */
abstract class InFlightGatePad
{
    @SuppressWarnings("unused")
    private long p0, p1, p2, p3, p4, p5, p6;
}

/** The value, between paddings. */
abstract class InFlightGateValue extends InFlightGatePad
{
    /** Accessed only through the VarHandle in {@link InFlightGate}. */
    protected volatile long value;
}
