package io.millrace.metrics;

import org.HdrHistogram.Histogram;

/**
 * One stage's counters, summed over every thread that runs it.
 *
 * @param name             stage name
 * @param placement        placement as declared, e.g. {@code inline}, {@code blocking(2)}
 * @param partitions       P for a partitioned stage, otherwise 0
 * @param count            dispatches, successful or not
 * @param errors           dispatches that threw or misused the stage API
 * @param serviceTimeNanos service time of every dispatch since start, in nanoseconds (a copy the
 *                         caller owns)
 */
public record StageMetrics(String name, String placement, int partitions, long count, long errors, Histogram serviceTimeNanos)
{
    /**
     * @param percentile 0 to 100
     * @return service time at that percentile, in nanoseconds; 0 when nothing was recorded
     */
    public long serviceTimeAtPercentile(final double percentile)
    {
        return serviceTimeNanos.getTotalCount() == 0 ? 0 : serviceTimeNanos.getValueAtPercentile(percentile);
    }
}
