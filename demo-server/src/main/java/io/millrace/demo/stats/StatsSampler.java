package io.millrace.demo.stats;

import io.millrace.FatalErrorHandler;
import io.millrace.metrics.MetricsSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Feeds a {@link StatsHistory} on a timer: one daemon thread takes a metrics snapshot every period
 * and records it. Taking a snapshot collects the workers' histograms through their handshake and
 * copies them, so it is kept off the workers and off the request path.
 *
 * <p>Threading: owns its one thread; {@link #close()} from any thread. A snapshot that throws is
 * logged once and the timer goes on (a scheduled task that throws would be cancelled for good). A
 * {@link VirtualMachineError} (an OutOfMemoryError, say) goes to the fatal-error handler instead,
 * as it would from a worker: swallowed by the executor, it would leave a server that can no longer
 * allocate looking alive.
 */
public final class StatsSampler implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(StatsSampler.class);

    private final ScheduledExecutorService timer;
    private boolean warned;

    private final FatalErrorHandler onFatal;

    private StatsSampler(final StatsHistory history, final Supplier<MetricsSnapshot> source, final Duration period,
        final FatalErrorHandler onFatal)
    {
        this.onFatal = onFatal;
        this.timer = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "demo-stats-sampler");
            t.setDaemon(true);
            return t;
        });
        final long periodNanos = period.toNanos();
        timer.scheduleAtFixedRate(() -> sample(history, source), 0, periodNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Starts sampling at once, then every {@code period}.
     *
     * @param history where samples go
     * @param source  the metrics, e.g. {@code server::metrics}
     * @param period  time between samples
     * @param onFatal told (pipeline name "stats-sampler") when sampling hits a {@link VirtualMachineError}
     * @return the running sampler; close it to stop
     */
    public static StatsSampler start(final StatsHistory history, final Supplier<MetricsSnapshot> source,
        final Duration period, final FatalErrorHandler onFatal)
    {
        if (period.isNegative() || period.isZero())
        {
            throw new IllegalArgumentException("sampling period must be positive, was " + period);
        }
        return new StatsSampler(history, source, period, onFatal);
    }

    private void sample(final StatsHistory history, final Supplier<MetricsSnapshot> source)
    {
        try
        {
            history.record(source.get(), System.nanoTime(), System.currentTimeMillis());
        }
        catch (final VirtualMachineError fatal)
        {
            onFatal.onFatalError("stats-sampler", Thread.currentThread(), fatal);
            throw fatal;
        }
        catch (final RuntimeException ex)
        {
            if (!warned)
            {
                warned = true;
                LOG.warn("stats sampling failed; /stats charts will not move until it works again", ex);
            }
        }
    }

    /** Stops the timer; a sample in progress finishes. */
    @Override
    public void close()
    {
        timer.shutdownNow();
    }
}
