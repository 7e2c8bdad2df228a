package io.millrace.worker;

import org.slf4j.Logger;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Logs at most one line per interval for one source (a stage, the completion listener), however
 * many threads report errors: an error storm yields one line per second saying how many were
 * suppressed, not a flooded log. Only error paths call it, so its atomics cost the hot path nothing.
 */
final class RateLimitedLog
{
    private final Logger log;
    private final String source;
    private final long intervalNanos;
    private final AtomicLong nextAllowedNanos;
    private final AtomicLong suppressed = new AtomicLong();

    RateLimitedLog(final Logger log, final String source, final long intervalNanos)
    {
        this.log = log;
        this.source = source;
        this.intervalNanos = intervalNanos;
        this.nextAllowedNanos = new AtomicLong(System.nanoTime());
    }

    void error(final String what, final Throwable error)
    {
        log(what, "the request completed with this error", error);
    }

    /** For errors of code that serves no one request (a timer callback, a hook): the worker goes on. */
    void contained(final String what, final Throwable error)
    {
        log(what, "the worker goes on", error);
    }

    private void log(final String what, final String consequence, final Throwable error)
    {
        final long now = System.nanoTime();
        final long next = nextAllowedNanos.get();
        if (now - next >= 0 && nextAllowedNanos.compareAndSet(next, now + intervalNanos))
        {
            final long skipped = suppressed.getAndSet(0);
            log.warn("{} {}; {} ({} similar errors suppressed since the last line)",
                source, what, consequence, skipped, error);
        }
        else
        {
            suppressed.incrementAndGet();
        }
    }
}
