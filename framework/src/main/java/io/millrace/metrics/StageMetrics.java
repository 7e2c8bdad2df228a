package io.millrace.metrics;

import org.HdrHistogram.Histogram;

/**
 * One stage's counters, summed over every thread that runs it.
 *
 * <p>Dispatches and requests differ when requests suspend: a request that suspends in a stage and is
 * resumed into the same stage (a lock-grid wait, a retry) is dispatched there twice but counted as one
 * request. Counts are exact. The histograms are collected from the recording threads without stopping
 * them; a thread busy in one long stage call when the snapshot is taken hands its latest records over
 * with a later snapshot, so a histogram's total may trail the counts briefly (and with
 * {@code PipelineBuilder.serviceTimeSampling} above 1 it holds only the sampled dispatches).
 *
 * @param name             stage name
 * @param placement        placement as declared, e.g. {@code inline}, {@code blocking(2)}
 * @param partitions       P for a partitioned stage, otherwise 0
 * @param dispatches       times the stage's handler ran, successful or not
 * @param requests         requests that went through the stage: {@code dispatches} less the
 *                         re-dispatches of requests resumed into the stage they had suspended in
 * @param parked           dispatches that suspended their request (returned {@code blocked()})
 * @param errors           dispatches that threw or misused the stage API
 * @param serviceTimeNanos service time of the timed dispatches since start, in nanoseconds (a copy the
 *                         caller owns)
 * @param queueWaitNanos   time requests waited before a dispatch of this stage since start, in
 *                         nanoseconds: residence in the worker's inbox ring, or in a blocking stage's
 *                         queue; possibly sampled; a dispatch that follows another stage inline on the
 *                         same thread did not wait and is not recorded (a copy the caller owns)
 */
public record StageMetrics(
    String name,
    String placement,
    int partitions,
    long dispatches,
    long requests,
    long parked,
    long errors,
    Histogram serviceTimeNanos,
    Histogram queueWaitNanos)
{
    /**
     * The count this record had before dispatches and requests were told apart.
     *
     * @return {@link #dispatches()}
     */
    public long count()
    {
        return dispatches;
    }

    /**
     * @param percentile 0 to 100
     * @return service time at that percentile, in nanoseconds; 0 when nothing was recorded
     */
    public long serviceTimeAtPercentile(final double percentile)
    {
        return atPercentile(serviceTimeNanos, percentile);
    }

    /**
     * @param percentile 0 to 100
     * @return queue wait at that percentile, in nanoseconds; 0 when nothing was recorded
     */
    public long queueWaitAtPercentile(final double percentile)
    {
        return atPercentile(queueWaitNanos, percentile);
    }

    static long atPercentile(final Histogram h, final double percentile)
    {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile);
    }
}
