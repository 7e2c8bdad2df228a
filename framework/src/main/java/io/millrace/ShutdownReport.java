package io.millrace;

import java.time.Duration;
import java.util.List;

/**
 * What {@link Pipeline#shutdown(Duration)} did.
 *
 * @param inFlightAtStart  requests accepted but not completed when intake stopped
 * @param aborted          requests still in flight at the deadline, which the shutdown completed
 *                         with a {@link PipelineAbortedException}
 * @param dropped          requests that could not be completed: only those held by a worker thread
 *                         stuck in user code past the deadline; their listener is never called
 * @param elapsed          how long the drain and stop took
 * @param stuckThreadNames worker or blocking threads still running user code after the deadline
 *                         (blocking ones were interrupted; their requests are among the aborted)
 */
public record ShutdownReport(long inFlightAtStart, long aborted, long dropped, Duration elapsed, List<String> stuckThreadNames)
{
    /**
     * @return requests that completed normally during the drain
     */
    public long drained()
    {
        return inFlightAtStart - aborted - dropped;
    }

    /**
     * @return how many threads were stuck in user code
     */
    public int stuckThreads()
    {
        return stuckThreadNames.size();
    }

    /**
     * @return whether every in-flight request completed normally and every thread stopped in time
     */
    public boolean clean()
    {
        return aborted == 0 && dropped == 0 && stuckThreadNames.isEmpty();
    }
}
