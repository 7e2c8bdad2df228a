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
 */
public record CellStats(String stage, int row, int column, long acquisitions, long contended, long abandoned,
    Histogram waitTimes)
{
    /**
     * @param stage        the row's stage name
     * @param row          row index
     * @param column       column index, or -1 for a row total
     * @param acquisitions every acquisition
     * @param contended    acquisitions that parked
     * @param abandoned    completions while holding or waiting
     * @param waitTimes    wait times in nanoseconds
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
}
