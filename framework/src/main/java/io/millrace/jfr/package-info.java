/**
 * JDK Flight Recorder events of the Millrace runtime, recorded with the JDK's own tools and free
 * when no recording asks for them.
 *
 * <p>Seven events, one class each, all in the category {@code Millrace}:
 * {@code io.millrace.StageDispatch} (a stage's handler ran past a threshold),
 * {@code io.millrace.RingHop} (a publish into a worker's inbox ring),
 * {@code io.millrace.WorkerPark} (a worker parked, until it woke),
 * {@code io.millrace.LockWait} (a request waited for a lock-grid cell past a threshold),
 * {@code io.millrace.SlabExhausted} (a buffer was refused: the arena is at its cap),
 * {@code io.millrace.LeakReport} (the leak detector found a buffer never released) and
 * {@code io.millrace.RequestRejected} (a submit was refused for overload). Record them with
 * {@code -XX:StartFlightRecording} or {@code jcmd PID JFR.start}, read them in JDK Mission Control
 * or with {@code jfr print --events io.millrace.StageDispatch rec.jfr}; {@code docs/observability.md}
 * lists every field, the defaults and the settings file {@code docs/millrace.jfc}.
 *
 * <p>The classes are public only because the runtime's packages emit them; a user reads the events
 * by name and never creates one. Every emission point first asks {@link io.millrace.jfr.JfrSwitch}
 * whether a flight recorder has started in this JVM (one volatile load and a branch), and touches an
 * event class only then: loading the first event class would bring up JFR's metadata repository,
 * hundreds of classes and a third of a second, in a JVM that never records. Once a recorder is up,
 * each class answers {@code enabled()} from one shared, never committed instance (JFR's
 * {@code isEnabled()}, a static-field load). A disabled event allocates nothing; only an enabled one
 * creates its event object, which the JIT usually scalar-replaces.
 */
package io.millrace.jfr;
