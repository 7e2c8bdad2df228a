package io.millrace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * {@code io.millrace.LeakReport}: the {@link io.millrace.memory.LeakDetector} found a tracked
 * buffer that became unreachable without its last {@code release()}, the same report it logs. The
 * allocation site is the one it captured; the event's own stack (off by default) would only show the
 * thread that polled the detector.
 *
 * <p>Threading: created and committed by the thread that polls the detector.
 */
@Name(LeakReportEvent.NAME)
@Label("Buffer Leak")
@Category({"Millrace", "Memory"})
@Description("A pooled buffer became unreachable without being released")
@StackTrace(false)
public final class LeakReportEvent extends Event
{
    /** The event type's name. */
    public static final String NAME = "io.millrace.LeakReport";

    /** Asked whether the type is enabled; never committed. */
    private static final LeakReportEvent PROBE = new LeakReportEvent();

    @Label("Buffer")
    @Description("The buffer's name, allocator#serial")
    String buffer;

    @Label("Allocation Site")
    @Description("Where the buffer was allocated, one frame per line, from the allocator's caller")
    String allocationSite;

    @Label("Touches")
    @Description("The buffer's most recent touches, oldest first, one per line (paranoid level only)")
    String touches;

    private LeakReportEvent()
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
     * @param bufferName the buffer
     * @param site       its allocation site
     * @param touchLines its touches, one per line, or an empty string
     */
    public static void emit(final String bufferName, final String site, final String touchLines)
    {
        final LeakReportEvent event = new LeakReportEvent();
        event.buffer = bufferName;
        event.allocationSite = site;
        event.touches = touchLines;
        event.commit();
    }
}
