package io.millrace.lock;

import org.HdrHistogram.Histogram;

import java.util.Objects;

/**
 * Contention statistics of one lock-grid cell, or of a whole row when {@code column} is -1.
 *
 * <p>Immutable by convention: {@code waitTimes} is this snapshot's own copy; do not modify it.
 *
 * @param stage        the row's stage name
 * @param row          row index, in the grid's lock order
 * @param column       column (data set) index, or -1 for a row total
 * @param acquisitions every acquisition: found free, or parked and later granted
 * @param contended    acquisitions that found the cell held and parked the request
 * @param abandoned    requests that completed while holding or waiting for the cell (misuse)
 * @param waitTimes    nanoseconds from parking to taking the cell over, one value per granted wait
 * @param holdSamples  holds that were timed: every contended acquisition and one uncontended in
 *                     eight (timing each would cost two clock reads per acquisition)
 * @param holdNanos    total duration of the timed holds, from taking the cell to releasing it
 */
public record CellStats(String stage, int row, int column, long acquisitions, long contended, long abandoned,
    Histogram waitTimes, long holdSamples, long holdNanos)
{
    /**
     * A cell is a convoy when its mean wait is more than this many times its mean hold: requests
     * spend far longer queueing for the cell than anyone spends holding it, so the hand-off between
     * requests, not the work it protects, is what they wait for.
     */
    public static final int CONVOY_WAIT_TO_HOLD = 10;

    /** Fewest waits (and timed holds) before a cell can be called a convoy: a few slow waits are noise. */
    public static final int CONVOY_MIN_SAMPLES = 100;

    /**
     * @param stage        the row's stage name
     * @param row          row index
     * @param column       column index, or -1 for a row total
     * @param acquisitions every acquisition
     * @param contended    acquisitions that parked
     * @param abandoned    completions while holding or waiting
     * @param waitTimes    wait times in nanoseconds
     * @param holdSamples  timed holds
     * @param holdNanos    their total duration in nanoseconds
     */
    public CellStats
    {
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(waitTimes, "waitTimes");
    }

    /**
     * @return contended / acquisitions, from 0 to 1; 0 for an unused cell
     */
    public double contentionRate()
    {
        return acquisitions == 0 ? 0 : (double)contended / acquisitions;
    }

    /**
     * @param percentile from 0 to 100
     * @return wait time at that percentile in nanoseconds; 0 without waits
     */
    public long waitAtPercentile(final double percentile)
    {
        return waitTimes.getTotalCount() == 0 ? 0 : waitTimes.getValueAtPercentile(percentile);
    }

    /**
     * @return longest recorded wait in nanoseconds; 0 without waits
     */
    public long maxWait()
    {
        return waitTimes.getTotalCount() == 0 ? 0 : waitTimes.getMaxValue();
    }

    /**
     * @return sum of all recorded waits in nanoseconds (from the histogram, within its 1% precision)
     */
    public double totalWaitNanos()
    {
        return waitTimes.getTotalCount() == 0 ? 0 : waitTimes.getMean() * waitTimes.getTotalCount();
    }

    /**
     * @return mean duration of the timed holds in nanoseconds; 0 without any
     */
    public double meanHoldNanos()
    {
        return holdSamples == 0 ? 0 : (double)holdNanos / holdSamples;
    }

    /**
     * @return mean wait in nanoseconds; 0 without waits
     */
    public double meanWaitNanos()
    {
        return waitTimes.getTotalCount() == 0 ? 0 : waitTimes.getMean();
    }

    /**
     * @return mean wait over mean hold (a hold under a nanosecond counts as one); 0 without waits
     *         or timed holds
     */
    public double waitToHold()
    {
        if (waitTimes.getTotalCount() == 0 || holdSamples == 0)
        {
            return 0;
        }
        return meanWaitNanos() / Math.max(1.0, meanHoldNanos());
    }

    /**
     * Whether the cell is a convoy: at least {@value #CONVOY_MIN_SAMPLES} waits and timed holds, and a
     * mean wait more than {@value #CONVOY_WAIT_TO_HOLD} times the mean hold. Such a cell guards too
     * little work to be worth queueing for: keep its data on one worker (a partitioned stage), use an
     * atomic, or split the data set (see the lock-grid guide's "When a cell is the wrong tool").
     *
     * @return {@code true} if waiting for the cell dwarfs holding it
     */
    public boolean waitDwarfsHold()
    {
        return waitTimes.getTotalCount() >= CONVOY_MIN_SAMPLES && holdSamples >= CONVOY_MIN_SAMPLES &&
            waitToHold() > CONVOY_WAIT_TO_HOLD;
    }
}
