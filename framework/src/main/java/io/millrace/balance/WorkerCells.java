package io.millrace.balance;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One upstream's request statistics, one block per worker.
 *
 * <p>Threading: worker {@code w}'s block is written only by the thread that owns worker
 * {@code w}'s {@link Balancer}: a plain read of its own value and an opaque store (a plain move on
 * x86), no atomic instruction. Any thread reads any block with opaque loads, which see untorn and
 * eventually current values; readers merge blocks without locks (a sum for counts). Each block is
 * 128 bytes, two cache lines, and the array is padded at both ends, so that two workers never write
 * the same line (nor adjacent lines, which some CPUs prefetch in pairs).
 */
final class WorkerCells
{
    static final int IN_FLIGHT = 0;
    static final int REQUESTS = 1;
    static final int SUCCESSES = 2;
    static final int FAILURES = 3;
    /** Decaying average latency of successful attempts, nanoseconds; 0 before the first. */
    static final int EWMA = 4;
    /** Clock reading of the last latency sample. */
    static final int LAST_SAMPLE = 5;
    static final int LATENCY_SUM = 6;
    static final int SAMPLES = 7;
    static final int CONNECTIONS = 8;
    static final int IDLE_CONNECTIONS = 9;
    static final int PENDING = 10;
    static final int NEUTRAL = 11;

    private static final int STRIDE = 16;
    private static final int PAD = 16;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] cells;
    private final int workers;

    WorkerCells(final int workers)
    {
        this.workers = workers;
        this.cells = new long[PAD + workers * STRIDE + PAD];
    }

    /** Owner only: adds {@code delta} to its own counter. */
    void add(final int worker, final int field, final long delta)
    {
        final int i = PAD + worker * STRIDE + field;
        LONGS.setOpaque(cells, i, cells[i] + delta);
    }

    /** Owner only. */
    void set(final int worker, final int field, final long value)
    {
        LONGS.setOpaque(cells, PAD + worker * STRIDE + field, value);
    }

    /** Any thread. */
    long get(final int worker, final int field)
    {
        return (long)LONGS.getOpaque(cells, PAD + worker * STRIDE + field);
    }

    /** Any thread: the sum over workers (each term untorn; the sum is not one instant's). */
    long sum(final int field)
    {
        long total = 0;
        for (int w = 0; w < workers; w++)
        {
            total += (long)LONGS.getOpaque(cells, PAD + w * STRIDE + field);
        }
        return total;
    }

    /**
     * Owner only: folds a successful attempt's latency into the worker's averages. The decaying
     * average is nginx's ({@code ngx_http_upstream_response_time_avg}): the first sample, then
     * 5% of each new one and 95% of the old.
     */
    void recordLatency(final int worker, final long nanos, final long now)
    {
        final int base = PAD + worker * STRIDE;
        final long old = cells[base + EWMA];
        final long sample = Math.max(1, nanos);
        final long next = cells[base + SAMPLES] == 0 || old == 0 ? sample : Math.round(old * 0.95 + sample * 0.05);
        LONGS.setOpaque(cells, base + EWMA, next);
        LONGS.setOpaque(cells, base + LAST_SAMPLE, now);
        LONGS.setOpaque(cells, base + LATENCY_SUM, cells[base + LATENCY_SUM] + sample);
        LONGS.setOpaque(cells, base + SAMPLES, cells[base + SAMPLES] + 1);
    }

    /**
     * Any thread: worker {@code w}'s average, halved once for every {@code decayNanos} since its
     * last sample, so that a server that was slow once and then got no traffic is tried again
     * (nginx's {@code least_time} halves a peer's time once per {@code fail_timeout} unchecked).
     *
     * @return nanoseconds, 0 without samples
     */
    long decayedLatency(final int worker, final long now, final long decayNanos)
    {
        final long avg = get(worker, EWMA);
        if (avg == 0)
        {
            return 0;
        }
        final long age = now - get(worker, LAST_SAMPLE);
        if (age < decayNanos || decayNanos <= 0)
        {
            return avg;
        }
        final long halvings = age / decayNanos;
        return halvings >= 63 ? 0 : avg >>> halvings;
    }

    /** Any thread: the mean of the workers' decayed averages, over workers that have samples; 0 if none. */
    long mergedLatency(final long now, final long decayNanos)
    {
        long total = 0;
        int n = 0;
        for (int w = 0; w < workers; w++)
        {
            if (get(w, SAMPLES) != 0)
            {
                total += decayedLatency(w, now, decayNanos);
                n++;
            }
        }
        return n == 0 ? 0 : total / n;
    }
}
