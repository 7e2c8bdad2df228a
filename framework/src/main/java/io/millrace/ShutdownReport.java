package io.millrace;

import java.time.Duration;

/**
 * What {@link Pipeline#shutdown(Duration)} did.
 *
 * @param inFlightAtStart   requests accepted but not completed when intake stopped
 * @param dropped           requests still not completed when the deadline passed; their completion
 *                          listener is never called
 * @param elapsed           how long the drain and stop took
 * @param stuckThreads      worker or blocking threads still running user code after the deadline
 */
public record ShutdownReport(long inFlightAtStart, long dropped, Duration elapsed, int stuckThreads)
{
    /**
     * @return requests that completed during the drain
     */
    public long drained()
    {
        return inFlightAtStart - dropped;
    }

    /**
     * @return whether every in-flight request completed and every thread stopped in time
     */
    public boolean clean()
    {
        return dropped == 0 && stuckThreads == 0;
    }
}
