package io.millrace.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A pool's owner-written counters. Only the owner thread writes, so an update is a plain add and an
 * opaque store (a plain move on x86); any thread reads with opaque loads, which see untorn and
 * eventually current values. Padded at both ends so that neighbouring objects' hot fields do not
 * share the counters' cache lines.
 */
final class PoolCounters
{
    static final int HITS = 0;
    static final int MISSES = 1;
    static final int FREES = 2;
    static final int RETURNS = 3;
    static final int DROPS = 4;
    static final int SWEEPS = 5;
    static final int EVICTED = 6;
    static final int LIVE = 7;
    static final int IDLE = 8;
    private static final int COUNT = 9;
    private static final int PAD = 8;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] values = new long[PAD + COUNT + PAD];

    void add(final int counter, final long delta)
    {
        final int i = PAD + counter;
        LONGS.setOpaque(values, i, values[i] + delta);
    }

    void set(final int counter, final long value)
    {
        LONGS.setOpaque(values, PAD + counter, value);
    }

    long get(final int counter)
    {
        return (long)LONGS.getOpaque(values, PAD + counter);
    }
}
