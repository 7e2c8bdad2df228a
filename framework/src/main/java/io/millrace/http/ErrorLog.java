package io.millrace.http;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * At most one log line per second for failures of user code (handlers, body listeners) and of
 * requests: a handler that throws on every request must not turn the log into the bottleneck. The
 * lines skipped in between are counted in the next one. Thread-safe; one per server.
 */
final class ErrorLog
{
    private static final Logger LOG = LoggerFactory.getLogger(HttpServer.class);
    private static final long INTERVAL_NANOS = 1_000_000_000L;

    private final AtomicLong nextAllowedNanos = new AtomicLong(System.nanoTime());
    private final AtomicLong suppressed = new AtomicLong();

    /**
     * @param what    what failed, e.g. "stage kv failed on ..."
     * @param outcome what the server did about it, e.g. "answering 500"
     * @param error   the failure
     */
    void warn(final String what, final String outcome, final Throwable error)
    {
        final long now = System.nanoTime();
        final long next = nextAllowedNanos.get();
        if (now - next >= 0 && nextAllowedNanos.compareAndSet(next, now + INTERVAL_NANOS))
        {
            LOG.warn("{}; {} ({} similar lines suppressed since the last one)", what, outcome, suppressed.getAndSet(0), error);
        }
        else
        {
            suppressed.incrementAndGet();
        }
    }
}
