package io.millrace.bench;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The completion count of a batch and the one way every benchmark waits for it: spin, then yield,
 * then park until the last completion unparks the waiter. So the benchmark thread stays off the CPU
 * while the system under test works, and every variant is waited for alike.
 *
 * <p>Threading: {@link #arm} and {@link #await} on the benchmark thread; {@link #countDown} on
 * whatever thread completes a request.
 */
final class BatchCountdown
{
    private static final int SPINS = 1_000;
    private static final int YIELDS = 100;

    private final AtomicInteger remaining = new AtomicInteger();
    private volatile Thread waiter;

    /** Arms the count on the waiting thread, before the batch's requests are submitted. */
    void arm(final int count)
    {
        waiter = Thread.currentThread();
        remaining.set(count);
    }

    /** One request of the batch completed; the last one wakes the waiter. */
    void countDown()
    {
        if (remaining.decrementAndGet() == 0)
        {
            LockSupport.unpark(waiter);
        }
    }

    /** Returns once every request of the armed batch completed. */
    void await()
    {
        int turns = 0;
        while (remaining.get() != 0)
        {
            if (turns < SPINS)
            {
                Thread.onSpinWait();
            }
            else if (turns < SPINS + YIELDS)
            {
                Thread.yield();
            }
            else
            {
                LockSupport.park(this);
            }
            turns++;
        }
    }
}
