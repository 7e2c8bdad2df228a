package io.millrace.stage;

/**
 * Timers on the current worker, fired in its own loop: no timer thread, no lock, no allocation per
 * timer once the worker's tables have grown to the number of pending timers.
 *
 * <pre>{@code
 * long id = ctx.timers().scheduleAfter(TimeUnit.MILLISECONDS.toNanos(50), (timerId, now) -> suspension.resume(Outcome.done()));
 * ...
 * ctx.timers().cancel(id);   // the answer came first
 * }</pre>
 *
 * <p>Resolution is the worker's timer tick (about a millisecond): a timer fires in the first loop
 * turn at or after its deadline, never before. A parked worker wakes for its next tick while timers
 * are pending.
 *
 * <p>Threading: owned by one worker thread. Call it only from code running on that worker (a stage
 * dispatched there, a timer callback, an end-of-turn hook); any other thread gets an
 * {@link IllegalStateException}. Callbacks run on the worker inside the runtime's guard: one that
 * throws is logged and counted, and the worker goes on.
 */
public interface WorkerTimers
{
    /** Called when a timer expires. */
    @FunctionalInterface
    interface Callback
    {
        /**
         * @param timerId  the id {@link #schedule} returned
         * @param nowNanos the worker's {@link System#nanoTime()} for this turn
         */
        void onTimer(long timerId, long nowNanos);
    }

    /**
     * @param deadlineNanos when to fire, as a {@link System#nanoTime()} value
     * @param callback      what to call; may be one object shared by many timers
     * @return the timer's id, for {@link #cancel(long)}
     */
    long schedule(long deadlineNanos, Callback callback);

    /**
     * @param delayNanos how long from now
     * @param callback   what to call
     * @return the timer's id, for {@link #cancel(long)}
     */
    long scheduleAfter(long delayNanos, Callback callback);

    /**
     * @param timerId an id from {@link #schedule}
     * @return {@code true} if the timer was pending and will not fire
     */
    boolean cancel(long timerId);

    /**
     * @return timers scheduled and not yet fired or cancelled
     */
    long pending();
}
