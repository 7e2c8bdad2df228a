package io.millrace.metrics;

import org.HdrHistogram.Histogram;

import java.util.List;
import java.util.NoSuchElementException;

/**
 * A point-in-time view of a pipeline's counters. Taking one allocates (histogram copies); recording
 * never does. Counters are read without stopping the workers, so totals taken from different
 * workers may be a few events apart while requests are moving; histograms are handed over by each
 * recording thread between two of its records, and a thread inside a long stage call hands over its
 * latest ones with a later snapshot (see {@link StageMetrics}).
 *
 * @param inFlight           accepted requests not yet completed
 * @param maxInFlight        the pipeline's in-flight bound
 * @param rejectedOverloaded submissions refused for overload
 * @param rejectedNotRunning submissions refused because the pipeline was not running
 * @param endToEndNanos      latency of completed requests since start, from {@code submit} to
 *                           completion (just before the completion listener runs), in nanoseconds,
 *                           successful or not (a copy the caller owns)
 * @param stages             one entry per stage, in declaration order
 * @param workers            one entry per worker, by index
 * @param failure            the fatal error that failed the pipeline (see
 *                           {@code Pipeline.failure()}), or null while it is healthy
 */
public record MetricsSnapshot(
    long inFlight,
    long maxInFlight,
    long rejectedOverloaded,
    long rejectedNotRunning,
    Histogram endToEndNanos,
    List<StageMetrics> stages,
    List<WorkerMetrics> workers,
    Throwable failure)
{
    /**
     * @return health: whether the pipeline has not failed
     */
    public boolean up()
    {
        return failure == null;
    }

    /**
     * @param name a stage name
     * @return that stage's metrics
     * @throws NoSuchElementException if the pipeline has no such stage
     */
    public StageMetrics stage(final String name)
    {
        for (final StageMetrics stage : stages)
        {
            if (stage.name().equals(name))
            {
                return stage;
            }
        }
        throw new NoSuchElementException("no stage named '" + name + "'; stages: " +
            stages.stream().map(StageMetrics::name).toList());
    }

    /**
     * @param percentile 0 to 100
     * @return end-to-end latency at that percentile, in nanoseconds; 0 when nothing was recorded
     */
    public long endToEndAtPercentile(final double percentile)
    {
        return StageMetrics.atPercentile(endToEndNanos, percentile);
    }

    /**
     * @return requests completed successfully, over all workers
     */
    public long completed()
    {
        return workers.stream().mapToLong(WorkerMetrics::completed).sum();
    }

    /**
     * @return requests completed with an error, over all workers
     */
    public long failed()
    {
        return workers.stream().mapToLong(WorkerMetrics::failed).sum();
    }

    /**
     * @return accepted submissions that reached a worker
     */
    public long submitsReceived()
    {
        return workers.stream().mapToLong(WorkerMetrics::submitsReceived).sum();
    }

    /**
     * Ring publishes after entry: hops to partition owners and resumes. Zero for a pipeline whose
     * requests never leave the worker they entered on.
     *
     * @return events received by workers that were not new submissions
     */
    public long internalPublishes()
    {
        return workers.stream().mapToLong(w -> w.publishesReceived() - w.submitsReceived()).sum();
    }
}
