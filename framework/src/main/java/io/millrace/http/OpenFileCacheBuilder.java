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
    static final int DEFAULT_MEMORY_MAX_FILE_BYTES = 64 * 1024;
    static final long DEFAULT_MEMORY_MAX_TOTAL_BYTES = 16L * 1024 * 1024;

    final StaticFiles files;
    int maxEntries = 256;
    int maxNegativeEntries = 256;
    Duration validity = Duration.ofSeconds(1);
    Duration inactive = Duration.ofSeconds(60);
    LongSupplier clock = System::nanoTime;
    int memoryMaxFileBytes = DEFAULT_MEMORY_MAX_FILE_BYTES;
    long memoryMaxTotalBytes = DEFAULT_MEMORY_MAX_TOTAL_BYTES;

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
     * Keeps small files in memory as well as open (default: files up to 64 KiB, 16 MiB in all per
     * cache): each is read once when opened or found changed, and its responses go out as one
     * {@code writev} of head and body instead of a {@code writev} and a sendfile (which the JDK
     * precedes with an {@code fstat} and a failing {@code copy_file_range}). The bytes are the
     * file's when it was read; a change is seen at the next revalidation, as for the descriptor.
     * A file that does not fit the total, or whose direct buffer cannot be reserved
     * ({@code -XX:MaxDirectMemorySize}), is sent with sendfile. The total counts the cached
     * entries: one that left the cache keeps its buffer until its last response is sent and the
     * garbage collector frees it, so a worker may hold more than the total while files churn.
     *
     * @param maxFileBytes  largest file kept in memory, 0 to 64 MiB; 0 sends every file with sendfile
     * @param maxTotalBytes bytes kept in memory by this cache at most, at least {@code maxFileBytes}
     * @return this builder
     */
    public OpenFileCacheBuilder memory(final int maxFileBytes, final long maxTotalBytes)
    {
        checkMemory(maxFileBytes, maxTotalBytes);
        memoryMaxFileBytes = maxFileBytes;
        memoryMaxTotalBytes = maxTotalBytes;
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

    static void checkMemory(final int maxFileBytes, final long maxTotalBytes)
    {
        if (maxFileBytes < 0 || maxFileBytes > 64 * 1024 * 1024)
        {
            throw new IllegalArgumentException("maxFileBytes is 0 (keep no file in memory) to 64 MiB, got " + maxFileBytes);
        }
        if (maxTotalBytes < maxFileBytes)
        {
            throw new IllegalArgumentException("maxTotalBytes (" + maxTotalBytes + ") must be at least maxFileBytes (" +
                maxFileBytes + ")");
        }
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
