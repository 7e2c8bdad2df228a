package io.millrace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * {@code io.millrace.RequestRejected}: {@code Pipeline.submit} refused a request with
 * {@code SubmitResult.REJECTED_OVERLOADED}. With the stack trace setting on (off by default) it
 * shows who submitted.
 *
 * <p>Threading: created and committed by the submitting thread.
 */
@Name(RequestRejectedEvent.NAME)
@Label("Request Rejected")
@Category({"Millrace", "Pipeline"})
@Description("A submit was refused because the pipeline is overloaded")
@StackTrace(false)
public final class RequestRejectedEvent extends Event
{
    /** The event type's name. */
    public static final String NAME = "io.millrace.RequestRejected";

    /** Asked whether the type is enabled; never committed. */
    private static final RequestRejectedEvent PROBE = new RequestRejectedEvent();

    @Label("Pipeline")
    @Description("Name of the pipeline")
    String pipeline;

    @Label("Reason")
    @Description("in-flight bound: maxInFlight requests were in flight; ring full: the entry worker's ring had no " +
        "free slot")
    String reason;

    @Label("Max In Flight")
    @Description("The pipeline's in-flight bound")
    long maxInFlight;

    private RequestRejectedEvent()
    {
    }

    /**
     * @return whether a recording enables this type
     */
    public static boolean enabled()
    {
        return PROBE.isEnabled();
    }

    /**
     * Commits one event now.
     *
     * @param pipelineName the pipeline
     * @param why          {@code in-flight bound} or {@code ring full}
     * @param bound        the in-flight bound
     */
    public static void emit(final String pipelineName, final String why, final long bound)
    {
        final RequestRejectedEvent event = new RequestRejectedEvent();
        event.pipeline = pipelineName;
        event.reason = why;
        event.maxInFlight = bound;
        event.commit();
    }
}
