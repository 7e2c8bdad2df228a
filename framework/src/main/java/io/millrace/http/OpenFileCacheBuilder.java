package io.millrace.http;

import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Settings of an {@link OpenFileCache}; see there for what each bounds and why the defaults are
 * what they are. Build one cache per worker thread.
 */
public final class OpenFileCacheBuilder
{
    final StaticFiles files;
    int maxEntries = 256;
    int maxNegativeEntries = 256;
    Duration validity = Duration.ofSeconds(1);
    Duration inactive = Duration.ofSeconds(60);
    LongSupplier clock = System::nanoTime;

    OpenFileCacheBuilder(final StaticFiles files)
    {
        this.files = files;
    }

    /**
     * @param count files kept open at most, at least 1 (default 256); each holds a file descriptor
     * @return this builder
     */
    public OpenFileCacheBuilder maxEntries(final int count)
    {
        if (count < 1)
        {
            throw new IllegalArgumentException("maxEntries must be at least 1, got " + count);
        }
        maxEntries = count;
        return this;
    }

    /**
     * @param count 403 and 404 answers remembered at most (default 256); 0 caches none
     * @return this builder
     */
    public OpenFileCacheBuilder maxNegativeEntries(final int count)
    {
        if (count < 0)
        {
            throw new IllegalArgumentException("maxNegativeEntries must not be negative, got " + count);
        }
        maxNegativeEntries = count;
        return this;
    }

    /**
     * @param time how long an entry is trusted before the next lookup checks the file again
     *             (default 1 s); zero checks on every lookup
     * @return this builder
     */
    public OpenFileCacheBuilder validity(final Duration time)
    {
        validity = nonNegative(time, "validity");
        return this;
    }

    /**
     * @param time how long an unused entry is kept (default 60 s)
     * @return this builder
     */
    public OpenFileCacheBuilder inactive(final Duration time)
    {
        inactive = nonNegative(time, "inactive");
        return this;
    }

    /**
     * @param nanoTime a monotonic clock in nanoseconds (default {@link System#nanoTime()}); for
     *                 tests, or a worker's own cached clock
     * @return this builder
     */
    public OpenFileCacheBuilder clock(final LongSupplier nanoTime)
    {
        clock = Objects.requireNonNull(nanoTime, "nanoTime");
        return this;
    }

    /**
     * @return a cache owned by the first thread that looks something up in it
     */
    public OpenFileCache build()
    {
        if ((long)maxEntries + maxNegativeEntries > 1 << 24)
        {
            throw new IllegalArgumentException("at most " + (1 << 24) + " entries, got " + maxEntries + " + " + maxNegativeEntries);
        }
        return new OpenFileCache(this);
    }

    private static Duration nonNegative(final Duration time, final String what)
    {
        if (time == null || time.isNegative())
        {
            throw new IllegalArgumentException(what + " must be zero or positive, got " + time);
        }
        return time;
    }
}
