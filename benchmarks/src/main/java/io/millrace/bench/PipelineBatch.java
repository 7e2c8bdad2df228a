package io.millrace.bench;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The {@value PipelineBenchmark#IN_FLIGHT} requests {@link PipelineBenchmark}'s thread submits
 * together and waits for, one benchmark operation per request. It waits exactly as {@link Batch}
 * does (spin, yield, then park until the last completion unparks it), so the benchmark thread is off
 * the CPU while the system under test works, and every variant is waited for the same way.
 *
 * <p>Every completion records the request's latency, submit to completion, in
 * {@link PipelineLatency}: the same clock reads and the same recorder in every variant.
 */
final class PipelineBatch
{
    private static final int SPINS = 1_000;
    private static final int YIELDS = 100;

    final PipelineRequest[] requests;
    private final AtomicInteger remaining = new AtomicInteger();
    private volatile Thread waiter;

    /**
     * @param size requests in the batch
     * @param keys the key space: keys are drawn uniformly from 0 to keys - 1 with a fixed seed, so
     *             every variant looks up the same keys
     */
    PipelineBatch(final int size, final int keys)
    {
        final SplittableRandom random = new SplittableRandom(42);
        requests = new PipelineRequest[size];
        for (int i = 0; i < size; i++)
        {
            requests[i] = new PipelineRequest(this, random.nextInt(keys));
        }
    }

    /** Arms the batch before its requests are submitted. */
    void start()
    {
        waiter = Thread.currentThread();
        remaining.set(requests.length);
        for (final PipelineRequest r : requests)
        {
            r.reset();
        }
    }

    void completed(final PipelineRequest request)
    {
        PipelineLatency.record(System.nanoTime() - request.submittedNanos);
        if (remaining.decrementAndGet() == 0)
        {
            LockSupport.unpark(waiter);
        }
    }

    /**
     * @return a value depending on every request's reply, for the blackhole
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
        for (final PipelineRequest r : requests)
        {
            sum += r.value + r.replyLength;
        }
        return sum;
    }
}
