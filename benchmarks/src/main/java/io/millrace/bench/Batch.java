package io.millrace.bench;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A set of requests the benchmark thread submits together and waits for. Every variant completes
 * requests through {@link #completed()} and the benchmark thread waits in {@link #await()} the same
 * way: spin, then yield, then park until the last completion unparks it. With one request per batch
 * that is a round trip; with many it is pipelined throughput, where the benchmark thread stays off
 * the CPU while the system under test works.
 */
final class Batch
{
    private static final int SPINS = 1_000;
    private static final int YIELDS = 100;

    final Request[] requests;
    private final AtomicInteger remaining = new AtomicInteger();
    private volatile Thread waiter;

    Batch(final int size)
    {
        requests = new Request[size];
        for (int i = 0; i < size; i++)
        {
            requests[i] = new Request(this);
        }
    }

    /** Arms the batch before its requests are submitted. */
    void start()
    {
        waiter = Thread.currentThread();
        remaining.set(requests.length);
        for (final Request r : requests)
        {
            r.reset();
        }
    }

    void completed()
    {
        if (remaining.decrementAndGet() == 0)
        {
            LockSupport.unpark(waiter);
        }
    }

    /**
     * @return a value depending on every request, for the blackhole
     */
    long await()
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
        long sum = 0;
        for (final Request r : requests)
        {
            sum += r.value;
        }
        return sum;
    }
}
