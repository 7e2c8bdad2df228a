package io.millrace.net;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One worker's outbound counters. Single writer (the worker thread) with opaque stores, so readers on
 * other threads see untorn, recent values without a fence on the writer's path. Connect failures and
 * closes have one counter per cause, at {@link #FAILURE_BASE} and {@link #CLOSE_BASE} plus the ordinal.
 */
final class OutboundCounters
{
    static final int OPEN = 0;
    static final int IDLE = 1;
    static final int CONNECTS = 2;
    static final int CONNECTED = 3;
    static final int POOL_HITS = 4;
    static final int POOL_MISSES = 5;
    static final int LIMIT_REJECTIONS = 6;
    static final int CLOSED = 7;
    static final int STALE_REUSES = 8;
    static final int HANDLER_ERRORS = 9;
    static final int BYTES_READ = 10;
    static final int BYTES_WRITTEN = 11;
    static final int WRITE_PAUSES = 12;
    static final int PENDING_OUTPUT = 13;
    static final int FAILURE_BASE = 14;
    static final int CLOSE_BASE = FAILURE_BASE + ConnectFailure.values().length;
    static final int COUNT = CLOSE_BASE + OutboundCloseCause.values().length;

    private final AtomicLongArray values = new AtomicLongArray(COUNT);

    void add(final int counter, final long delta)
    {
        values.setOpaque(counter, values.getPlain(counter) + delta);
    }

    void failure(final ConnectFailure cause)
    {
        add(FAILURE_BASE + cause.ordinal(), 1);
    }

    void close(final OutboundCloseCause cause)
    {
        add(CLOSED, 1);
        add(CLOSE_BASE + cause.ordinal(), 1);
    }

    long get(final int counter)
    {
        return values.getOpaque(counter);
    }
}
