package io.millrace.net;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One worker's transport counters. Single writer (the worker thread) with opaque stores, so
 * readers on other threads see untorn, recent values without a fence on the writer's path.
 */
final class TransportCounters
{
    static final int OPEN = 0;
    static final int ACCEPTED = 1;
    static final int REFUSED = 2;
    static final int CLOSED = 3;
    static final int IDLE_TIMEOUTS = 4;
    static final int READ_TIMEOUTS = 5;
    static final int HANDLER_ERRORS = 6;
    static final int IO_ERRORS = 7;
    static final int BYTES_READ = 8;
    static final int BYTES_WRITTEN = 9;
    static final int READ_PAUSES = 10;
    static final int PENDING_OUTPUT = 11;
    static final int MAX_PENDING_OUTPUT = 12;
    static final int ACCEPT_ERRORS = 13;
    static final int COUNT = 14;

    private final AtomicLongArray values = new AtomicLongArray(COUNT);

    void add(final int counter, final long delta)
    {
        values.setOpaque(counter, values.getPlain(counter) + delta);
    }

    void max(final int counter, final long value)
    {
        if (value > values.getPlain(counter))
        {
            values.setOpaque(counter, value);
        }
    }

    long get(final int counter)
    {
        return values.getOpaque(counter);
    }
}
