package io.millrace.bench;

import java.util.SplittableRandom;

/**
 * The {@value PipelineBenchmark#IN_FLIGHT} requests {@link PipelineBenchmark}'s thread submits
 * together and waits for, one benchmark operation per request. It waits through a
 * {@link BatchCountdown}, as {@link Batch} does, so every variant is waited for the same way.
 *
 * <p>Every completion records the request's latency, submit to completion, in
 * {@link PipelineLatency}: the same clock reads and the same recorder in every variant.
 */
final class PipelineBatch
{
    final PipelineRequest[] requests;
    private final BatchCountdown countdown = new BatchCountdown();

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
        countdown.arm(requests.length);
        for (final PipelineRequest r : requests)
        {
            r.reset();
        }
    }

    void completed(final PipelineRequest request)
    {
        PipelineLatency.record(System.nanoTime() - request.submittedNanos);
        countdown.countDown();
    }

    /**
     * @return a value depending on every request's reply, for the blackhole
     */
    long await()
    {
        countdown.await();
        long sum = 0;
        for (final PipelineRequest r : requests)
        {
            sum += r.value + r.replyLength;
        }
        return sum;
    }
}
