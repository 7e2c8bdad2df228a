package io.millrace.soak;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * What one seed's pipeline and run look like: sizes, placements, how much goes wrong, and how and
 * when the run ends. Drawn first from the seed's {@link Random}, before any request's plan.
 */
final class SoakShape
{
    /** Submit everything, wait until every accepted request completed, then shut down. */
    static final int DRAIN = 0;
    /** Shut down mid-load with a deadline of tens to hundreds of milliseconds. */
    static final int GRACEFUL = 1;
    /** Shut down mid-load with a deadline of a few milliseconds or none. */
    static final int ABRUPT = 2;
    static final String[] MODE_NAMES = {"drain", "graceful-mid-load", "abrupt-mid-load"};

    static final int ENTRY_INLINE = 0;
    static final int ENTRY_PARTITIONED = 1;
    static final int ENTRY_PINNED = 2;
    static final String[] ENTRY_NAMES = {"inline", "partitioned", "onWorker"};

    static final int WORKERS = 2;

    final int ringSize;
    final int maxInFlight;
    final int entryKind;
    /** Partitions of the partitioned stage; 0 for the pipeline's default. */
    final int ptPartitions;
    final int lk2Partitions;
    final int blockingThreads;
    final int gridColumns;
    final int lockKeySpace;
    final boolean sleepingIdle;
    final int sampling;
    final int requests;
    final int mode;
    /** Mid-load modes: the shutdown starts once this many requests were offered... */
    final int shutdownAt;
    /** ...and this much later. */
    final long shutdownDelayNanos;
    final long shutdownDeadlineNanos;
    final boolean probeMidLoad;
    /** Mid-load: a completion listener starts the shutdown, with shutdownAsync, on a worker thread. */
    final boolean shutdownFromListener;
    /** Retries of a refused submit before the request counts as rejected. */
    final int maxRetries;
    final int chaosThreads;
    final double faultRate;
    final double suspendRate;
    final double lockRate;

    SoakShape(final Random rnd)
    {
        ringSize = pick(rnd, 64, 128, 256, 1024, 4096);
        final int half = ringSize / 2;
        final double r = rnd.nextDouble();
        maxInFlight = r < 0.4 ? half : r < 0.7 ? 2 + rnd.nextInt(Math.min(62, half - 1)) : Math.max(2, half / 4 + rnd.nextInt(half - half / 4));
        entryKind = weighted(rnd, 50, 25, 25);
        ptPartitions = pick(rnd, 0, 2, 4, 8, 128);
        lk2Partitions = pick(rnd, 2, 4, 16);
        blockingThreads = 1 + rnd.nextInt(4);
        gridColumns = pick(rnd, 1, 2, 4, 16);
        lockKeySpace = pick(rnd, 1, 3, 8, 32);
        sleepingIdle = rnd.nextDouble() < 0.2;
        sampling = pick(rnd, 1, 4, 64);
        requests = 1500 + rnd.nextInt(2000);
        mode = weighted(rnd, 40, 30, 30);
        shutdownAt = rnd.nextInt(requests);
        shutdownDelayNanos = rnd.nextInt(10_000) * 1_000L;
        shutdownDeadlineNanos = mode == GRACEFUL ? TimeUnit.MILLISECONDS.toNanos(10 + rnd.nextInt(190)) :
            mode == ABRUPT ? rnd.nextInt(3_000) * 1_000L : TimeUnit.SECONDS.toNanos(10);
        probeMidLoad = rnd.nextBoolean();
        shutdownFromListener = mode != DRAIN && rnd.nextDouble() < 0.3;
        maxRetries = pick(rnd, 0, 100, 10_000, 10_000);
        chaosThreads = 1 + rnd.nextInt(2);
        faultRate = pickDouble(rnd, 0.01, 0.04, 0.1);
        suspendRate = pickDouble(rnd, 0.2, 0.5, 0.8);
        lockRate = pickDouble(rnd, 0.0, 0.2, 0.5);
    }

    boolean midLoad()
    {
        return mode != DRAIN;
    }

    private static int pick(final Random rnd, final int... values)
    {
        return values[rnd.nextInt(values.length)];
    }

    private static double pickDouble(final Random rnd, final double... values)
    {
        return values[rnd.nextInt(values.length)];
    }

    /** An index chosen with the given weights. */
    static int weighted(final Random rnd, final int... weights)
    {
        int sum = 0;
        for (final int w : weights)
        {
            sum += w;
        }
        int x = rnd.nextInt(sum);
        for (int i = 0; i < weights.length; i++)
        {
            x -= weights[i];
            if (x < 0)
            {
                return i;
            }
        }
        throw new AssertionError();
    }

    @Override
    public String toString()
    {
        return "mode=" + MODE_NAMES[mode] + (midLoad() ? " (after request " + shutdownAt + " + " + shutdownDelayNanos / 1000 +
            " us, deadline " + shutdownDeadlineNanos / 1000 + " us, probes " + probeMidLoad +
            (shutdownFromListener ? ", from a completion listener" : "") + ")" : "") +
            ", requests=" + requests + ", ringSize=" + ringSize + ", maxInFlight=" + maxInFlight + ", entry=" + ENTRY_NAMES[entryKind] +
            ", partitions=" + (ptPartitions == 0 ? "default" : ptPartitions) + "/" + lk2Partitions + ", blocking(" + blockingThreads +
            "), grid columns=" + gridColumns + ", lock keys=" + lockKeySpace + ", idle=" + (sleepingIdle ? "sleeping" : "backoff") +
            ", sampling=1/" + sampling + ", maxRetries=" + maxRetries + ", chaos threads=" + chaosThreads + ", faultRate=" + faultRate +
            ", suspendRate=" + suspendRate + ", lockRate=" + lockRate;
    }
}
