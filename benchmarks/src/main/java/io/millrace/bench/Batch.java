package io.millrace.bench;

/**
 * A set of requests the benchmark thread submits together and waits for. Every variant completes
 * requests through {@link #completed()} and the benchmark thread waits in {@link #await()} the same
 * way, through a {@link BatchCountdown}. With one request per batch
 * that is a round trip; with many it is pipelined throughput, where the benchmark thread stays off
 * the CPU while the system under test works.
 */
final class Batch
{
    final Request[] requests;
    private final BatchCountdown countdown = new BatchCountdown();

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
        countdown.arm(requests.length);
        for (final Request r : requests)
        {
            r.reset();
        }
    }

    void completed()
    {
        countdown.countDown();
    }

    /**
     * @return a value depending on every request, for the blackhole
     */
    long await()
    {
        countdown.await();
        long sum = 0;
        for (final Request r : requests)
        {
            sum += r.value;
        }
        return sum;
    }
}
