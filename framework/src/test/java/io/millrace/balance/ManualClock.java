package io.millrace.balance;

import java.time.Duration;
import java.util.function.LongSupplier;

/** A clock the test moves by hand. Starts at an arbitrary negative reading, as System.nanoTime may. */
final class ManualClock implements LongSupplier
{
    private volatile long now = -1_000_000_000_000L;

    @Override
    public long getAsLong()
    {
        return now;
    }

    void advance(final Duration d)
    {
        now += d.toNanos();
    }

    void advanceMillis(final long millis)
    {
        now += millis * 1_000_000L;
    }
}
