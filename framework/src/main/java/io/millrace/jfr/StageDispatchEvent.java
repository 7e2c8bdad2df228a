package io.millrace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/**
 * {@code io.millrace.StageDispatch}: one call of a stage's handler that took longer than the
 * event's threshold (default 1 ms; JFR's {@code threshold} setting). On a worker thread such a call
 * holds up every request queued behind it; on a blocking stage's thread it is the blocking call
 * itself, so set the threshold above that stage's usual time, or filter by {@code placement}.
 *
 * <p>The event's start and duration are those of the handler call. The runtime opens the event
 * with {@link #beginIfEnabled()} before the call and closes it with {@link #finish} after it.
 *
 * <p>Threading: an event object is confined to the thread that runs the handler.
 */
@Name(StageDispatchEvent.NAME)
@Label("Stage Dispatch")
@Category({"Millrace", "Pipeline"})
@Description("A stage handler call that took longer than the threshold")
@StackTrace(false)
@Threshold("1 ms")
public final class StageDispatchEvent extends Event
{
    /** The event type's name. */
    public static final String NAME = "io.millrace.StageDispatch";

    /** Asked whether the type is enabled; never committed. */
    private static final StageDispatchEvent PROBE = new StageDispatchEvent();

    @Label("Pipeline")
    @Description("Name of the pipeline")
    String pipeline;

    @Label("Stage")
    @Description("Name of the stage whose handler ran")
    String stage;

    @Label("Placement")
    @Description("The stage's placement, e.g. inline, partitioned(16), pinned, blocking(4)")
    String placement;

    @Label("Worker")
    @Description("Index of the worker that ran the handler; -1 on a blocking stage's thread")
    int worker;

    @Label("Partition")
    @Description("Partition of a partitioned stage; -1 otherwise")
    int partition;

    @Label("Failed")
    @Description("Whether the handler threw")
    boolean failed;

    private StageDispatchEvent()
    {
    }

    /**
     * @return an event begun now, or null when no recording enables this type (a load and a branch)
     */
    public static StageDispatchEvent beginIfEnabled()
    {
        if (!PROBE.isEnabled())
        {
            return null;
        }
        final StageDispatchEvent event = new StageDispatchEvent();
        event.begin();
        return event;
    }

    /**
     * Ends the event now and commits it if it took longer than the threshold.
     *
     * @param pipelineName  the pipeline
     * @param stageName     the stage
     * @param placementText the stage's placement
     * @param workerIndex   the worker, or -1 on a blocking stage's thread
     * @param partitionId   the partition, or -1
     * @param threw         whether the handler threw
     */
    public void finish(final String pipelineName, final String stageName, final String placementText, final int workerIndex,
        final int partitionId, final boolean threw)
    {
        end();
        if (shouldCommit())
        {
            pipeline = pipelineName;
            stage = stageName;
            placement = placementText;
            worker = workerIndex;
            partition = partitionId;
            failed = threw;
            commit();
        }
    }
}
