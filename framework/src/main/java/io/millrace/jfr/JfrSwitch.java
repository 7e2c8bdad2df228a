package io.millrace.jfr;

import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;

/**
 * Whether a flight recorder has started in this JVM: the first test at every emission point, before
 * any event class is touched.
 *
 * <p>Why a switch before the event's own {@code isEnabled()}: loading a {@link jdk.jfr.Event}
 * subclass registers it with JFR, and the first registration brings up JFR's metadata repository,
 * some 370 classes and 350 ms on the 2-core machine this is built on, even when no recording ever
 * runs. Measured on the demo server, that cost landed on its first request (27 ms became 180 ms). So
 * the runtime asks this switch first and loads an event class only once a recorder is up; until
 * then the test is one load of a volatile boolean (a plain load on x86) and a branch.
 *
 * <p>The switch is thrown by JFR itself: a {@link FlightRecorderListener} registered when this class
 * is initialized hears {@code recorderInitialized} when {@code -XX:StartFlightRecording},
 * {@code jcmd JFR.start} or a {@code jdk.jfr.Recording} starts the recorder, or at once if it already
 * runs. Registering the listener loads a handful of classes and takes about 2 ms, once. A JVM without
 * the {@code jdk.jfr} module (a jlink image that left it out) keeps the switch off.
 *
 * <p>Threading: written once, by JFR's notifying thread (or the initializing thread); read by any
 * thread. A recorder never stops being initialized, so the switch never goes back.
 */
public final class JfrSwitch
{
    private static volatile boolean recorderUp;

    static
    {
        try
        {
            FlightRecorder.addListener(new FlightRecorderListener()
            {
                @Override
                public void recorderInitialized(final FlightRecorder recorder)
                {
                    recorderUp = true;
                }
            });
        }
        catch (final LinkageError | RuntimeException ex)
        {
            // No jdk.jfr in this runtime image, or JFR refused: the events stay off, the runtime runs.
            recorderUp = false;
        }
    }

    private JfrSwitch()
    {
    }

    /**
     * @return whether a flight recorder has started in this JVM; only then may an event class be
     *         loaded and asked whether its type is enabled
     */
    public static boolean recorderUp()
    {
        return recorderUp;
    }
}
