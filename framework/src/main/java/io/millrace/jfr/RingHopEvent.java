package io.millrace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * {@code io.millrace.RingHop}: a request was published into a worker's inbox ring. The event's
 * thread is the publisher: a submitting thread, the worker a request hops from, a blocking stage's
 * thread, or whoever resumed a suspension. Requests that stay on their worker (inline stages, the
 * worker's local queue) cross no ring and make no event.
 *
 * <p>Off by default: a pipeline that hops does so once per request and stage, easily a million
 * times a second. Enable it for a short recording ({@code docs/millrace.jfc} does).
 *
 * <p>Threading: created, filled and committed by the publishing thread.
 */
@Name(RingHopEvent.NAME)
@Label("Ring Hop")
@Category({"Millrace", "Pipeline"})
@Description("A request published into a worker's inbox ring")
@StackTrace(false)
@Enabled(false)
public final class RingHopEvent extends Event
{
    /** The event type's name. */
    public static final String NAME = "io.millrace.RingHop";

    /** Asked whether the type is enabled; never committed. */
    private static final RingHopEvent PROBE = new RingHopEvent();

    @Label("Pipeline")
    @Description("Name of the pipeline")
    String pipeline;

    @Label("Worker")
    @Description("Index of the worker whose ring received the request")
    int worker;

    @Label("Kind")
    @Description("submit: a new request from another thread; continue: a hop to the worker that owns the next stage " +
        "(a partition owner, a pinned worker); resume: a blocking stage or a suspension bringing a request home")
    String kind;

    @Label("Stage")
    @Description("The stage the request continues at (submit, continue) or resumes in")
    String stage;

    @Label("Ring Depth")
    @Description("Events in that ring not yet consumed, this one included, right after the publish")
    long ringDepth;

    private RingHopEvent()
    {
    }

    /**
     * @return whether a recording enables this type; call before computing the fields
     */
    public static boolean enabled()
    {
        return PROBE.isEnabled();
    }

    /**
     * Commits one event now.
     *
     * @param pipelineName the pipeline
     * @param workerIndex  the receiving worker
     * @param hopKind      {@code submit}, {@code continue} or {@code resume}
     * @param stageName    the stage
     * @param depth        the ring's depth after the publish
     */
    public static void emit(final String pipelineName, final int workerIndex, final String hopKind, final String stageName,
        final long depth)
    {
        final RingHopEvent event = new RingHopEvent();
        event.pipeline = pipelineName;
        event.worker = workerIndex;
        event.kind = hopKind;
        event.stage = stageName;
        event.ringDepth = depth;
        event.commit();
    }
}
