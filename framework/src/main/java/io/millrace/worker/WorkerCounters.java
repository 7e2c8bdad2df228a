package io.millrace.worker;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A worker's own counters. Written only by the worker thread, so an increment is a plain add and an
 * opaque store (a plain move on x86); read by metrics from any thread with opaque loads, which see
 * untorn and eventually current values.
 */
final class WorkerCounters
{
    static final int RECEIVED = 0;
    static final int BATCHES = 1;
    static final int MAX_BATCH = 2;
    static final int PARKS = 3;
    static final int PUBLISHES_SENT = 4;
    static final int COMPLETED = 5;
    static final int FAILED = 6;
    static final int SUBMITS_RECEIVED = 7;
    /** Submits from this worker's own thread, run through the local queue with no ring publish. */
    static final int LOCAL_SUBMITS = 8;
    /** Resumes from this worker's own thread, likewise. */
    static final int LOCAL_RESUMES = 9;
    /** Requests completed with a cancellation or deadline error. */
    static final int CANCELLED = 10;
    private static final int COUNT = 11;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    // Padded at both ends so neighbouring objects' hot fields do not share the counters' lines.
    private final long[] values = new long[8 + COUNT + 8];

    void add(final int counter, final long delta)
    {
        final int i = 8 + counter;
        LONGS.setOpaque(values, i, values[i] + delta);
    }

    void max(final int counter, final long candidate)
    {
        final int i = 8 + counter;
        if (candidate > values[i])
        {
            LONGS.setOpaque(values, i, candidate);
        }
    }

    long get(final int counter)
    {
        return (long)LONGS.getOpaque(values, 8 + counter);
    }
}
