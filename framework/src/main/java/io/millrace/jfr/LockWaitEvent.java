package io.millrace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/**
 * {@code io.millrace.LockWait}: a request found a lock-grid cell held, parked on it and waited
 * longer than the event's threshold (default 1 ms) until it took the cell over. The event starts
 * when the request parked and ends when it came back to its stage as the cell's owner, the same
 * interval as the grid's wait-time histogram. A wait that ends because the request completed
 * (cancelled, failed) makes no event.
 *
 * <p>Threading: begun by the parking thread; ended and committed by the thread that runs the
 * request again, which is its home worker. The ring publish of the resume orders the two.
 */
@Name(LockWaitEvent.NAME)
@Label("Lock Grid Wait")
@Category({"Millrace", "Lock Grid"})
@Description("A request waited for a lock-grid cell longer than the threshold")
@StackTrace(false)
@Threshold("1 ms")
public final class LockWaitEvent extends Event
{
    /** The event type's name. */
    public static final String NAME = "io.millrace.LockWait";

    /** Asked whether the type is enabled; never committed. */
    private static final LockWaitEvent PROBE = new LockWaitEvent();

    @Label("Grid")
    @Description("Name of the lock grid")
    String grid;

    @Label("Stage")
    @Description("The cell's row: the stage that took it")
    String stage;

    @Label("Data Set")
    @Description("The cell's column: the data set")
    int dataSet;

    private LockWaitEvent()
    {
    }

    /**
     * @return an event begun now, or null when no recording enables this type (a load and a branch)
     */
    public static LockWaitEvent beginIfEnabled()
    {
        if (!PROBE.isEnabled())
        {
            return null;
        }
        final LockWaitEvent event = new LockWaitEvent();
        event.begin();
        return event;
    }

    /**
     * Ends the event now and commits it if the wait was longer than the threshold.
     *
     * @param gridName the grid
     * @param rowName  the cell's stage
     * @param column   the cell's data set
     */
    public void finish(final String gridName, final String rowName, final int column)
    {
        end();
        if (shouldCommit())
        {
            grid = gridName;
            stage = rowName;
            dataSet = column;
            commit();
        }
    }
}
