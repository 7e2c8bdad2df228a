package io.millrace.worker;

import org.HdrHistogram.Histogram;

/**
 * One of a {@link Lane}'s two sets of histograms: service time and queue wait per stage, and, on a
 * worker's lane, end-to-end latency and batch sizes.
 *
 * <p>Threading: owned by the lane's writer while it is the active set, by the metrics reader (under
 * the snapshot lock) otherwise; the lane's handshake hands it over (see {@link Lane}).
 */
final class LaneRecording
{
    /** By stage; null for stages the lane does not run. */
    final Histogram[] serviceTimes;
    /** By stage; null for stages the lane does not run. */
    final Histogram[] queueWaits;
    /** Null on a blocking-stage thread's lane. */
    final Histogram endToEnd;
    /** Null on a blocking-stage thread's lane. */
    final Histogram batchSizes;

LaneRecording(final int stageCount, final boolean[] runsStage, final int maxBatch)
    {
        serviceTimes = new Histogram[stageCount];
        queueWaits = new Histogram[stageCount];
        for (int i = 0; i < stageCount; i++)
        {
            if (runsStage[i])
            {
                serviceTimes[i] = new Histogram(1, Lane.MAX_TRACKED_NANOS, 2);
                queueWaits[i] = new Histogram(1, Lane.MAX_TRACKED_NANOS, 2);
            }
        }
        endToEnd = maxBatch > 0 ? new Histogram(1, Lane.MAX_TRACKED_NANOS, 2) : null;
        batchSizes = maxBatch > 0 ? new Histogram(1, Math.max(2, maxBatch), 2) : null;
    }

    void addInto(final Histogram[] serviceTotals, final Histogram[] queueWaitTotals, final Histogram endToEndTotal,
        final Histogram batchTotal)
    {
        for (int s = 0; s < serviceTimes.length; s++)
        {
            addIfAny(serviceTotals[s], serviceTimes[s]);
            addIfAny(queueWaitTotals[s], queueWaits[s]);
        }
        addIfAny(endToEndTotal, endToEnd);
        addIfAny(batchTotal, batchSizes);
    }

    void reset()
    {
        for (int s = 0; s < serviceTimes.length; s++)
        {
            resetIfAny(serviceTimes[s]);
            resetIfAny(queueWaits[s]);
        }
        resetIfAny(endToEnd);
        resetIfAny(batchSizes);
    }

    private static void addIfAny(final Histogram total, final Histogram part)
    {
        if (total != null && part != null && part.getTotalCount() != 0)
        {
            total.add(part);
        }
    }

    private static void resetIfAny(final Histogram h)
    {
        if (h != null && h.getTotalCount() != 0)
        {
            h.reset();
        }
    }
}
