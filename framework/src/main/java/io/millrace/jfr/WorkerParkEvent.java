package io.millrace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * {@code io.millrace.WorkerPark}: a worker found no work, announced that it parks and slept, in
 * its idle strategy or, with a transport, in {@code select}; the event lasts until it woke.
 * {@code wokenByProducer} tells a wake-up by a publishing thread (which won the worker's parking
 * announcement) from the end of the idle strategy's park, a timer or socket readiness.
 *
 * <p>Off by default: an idle worker parks up to a thousand times a second (Agrona's back-off
 * parks 1 µs to 1 ms). The {@code threshold} setting keeps only the longer parks.
 *
 * <p>Threading: confined to the worker thread.
 */
@Name(WorkerParkEvent.NAME)
@Label("Worker Park")
@Category({"Millrace", "Pipeline"})
@Description("A worker parked for want of work, until it woke")
@StackTrace(false)
@Enabled(false)
public final class WorkerParkEvent extends Event
{
    /** The event type's name. */
    public static final String NAME = "io.millrace.WorkerPark";

    /** Asked whether the type is enabled; never committed. */
    private static final WorkerParkEvent PROBE = new WorkerParkEvent();

    @Label("Pipeline")
    @Description("Name of the pipeline")
    String pipeline;

    @Label("Worker")
    @Description("Index of the worker")
    int worker;

    @Label("Woken by Producer")
    @Description("A thread that published into the worker's ring woke it; otherwise the park timed out, a timer " +
        "was due or a socket became ready")
    boolean wokenByProducer;

    private WorkerParkEvent()
    {
    }

    /**
     * @return an event begun now, or null when no recording enables this type (a load and a branch)
     */
    public static WorkerParkEvent beginIfEnabled()
    {
        if (!PROBE.isEnabled())
        {
            return null;
        }
        final WorkerParkEvent event = new WorkerParkEvent();
        event.begin();
        return event;
    }

    /**
     * Ends the event now and commits it if it lasted at least the threshold.
     *
     * @param pipelineName the pipeline
     * @param workerIndex  the worker
     * @param byProducer   whether a publishing thread woke it
     */
    public void finish(final String pipelineName, final int workerIndex, final boolean byProducer)
    {
        end();
        if (shouldCommit())
        {
            pipeline = pipelineName;
            worker = workerIndex;
            wokenByProducer = byProducer;
            commit();
        }
    }
}
