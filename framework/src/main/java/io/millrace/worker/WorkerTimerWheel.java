package io.millrace.worker;

import io.millrace.stage.WorkerTimers;
import org.agrona.DeadlineTimerWheel;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.concurrent.TimeUnit;

/**
 * A worker's timers: Agrona's {@link DeadlineTimerWheel} for the deadlines and a primitive map from
 * timer id to callback, both owned by the worker thread. Polled once per loop turn; the worker parks
 * at most one tick while timers are pending.
 *
 * <p>Threading: every method but {@link #pending()} belongs to the owning worker thread and checks
 * it (a timer set from another thread would race the wheel). {@link #pending()} may be read by
 * metrics from any thread: an opaque read of a count the owner publishes.
 */
final class WorkerTimerWheel implements WorkerTimers, DeadlineTimerWheel.TimerHandler
{
    /** About a millisecond, a power of two as the wheel requires. */
    static final long TICK_NANOS = 1L << 20;
    private static final int TICKS_PER_WHEEL = 512;
    /** Most callbacks run in one turn, so that a flood of timers cannot starve the inbox. */
    private static final int EXPIRY_LIMIT = 4096;

    private final Thread owner;
    private final DeadlineTimerWheel wheel;
    private final Long2ObjectHashMap<Callback> callbacks = new Long2ObjectHashMap<>();
    private final RateLimitedLog errors;
    private volatile long pendingCount;
    private long now;
    private long callbackErrors;

    /**
     * @param owner  the worker thread
     * @param errors where a throwing callback is reported
     */
    WorkerTimerWheel(final Thread owner, final RateLimitedLog errors)
    {
        this.owner = owner;
        this.wheel = new DeadlineTimerWheel(TimeUnit.NANOSECONDS, System.nanoTime(), TICK_NANOS, TICKS_PER_WHEEL);
        this.errors = errors;
    }

    @Override
    public long schedule(final long deadlineNanos, final Callback callback)
    {
        checkOwner();
        if (callback == null)
        {
            throw new NullPointerException("schedule(deadline, null): give the callback to run");
        }
        final long id = wheel.scheduleTimer(deadlineNanos);
        callbacks.put(id, callback);
        pendingCount = wheel.timerCount();
        return id;
    }

    @Override
    public long scheduleAfter(final long delayNanos, final Callback callback)
    {
        return schedule(System.nanoTime() + Math.max(0, delayNanos), callback);
    }

    @Override
    public boolean cancel(final long timerId)
    {
        checkOwner();
        if (callbacks.remove(timerId) == null)
        {
            return false;
        }
        wheel.cancelTimer(timerId);
        pendingCount = wheel.timerCount();
        return true;
    }

    @Override
    public long pending()
    {
        return pendingCount;
    }

    /**
     * Fires every timer whose deadline has passed. Owner thread.
     *
     * @param nowNanos the turn's time
     * @return how many fired
     */
    int poll(final long nowNanos)
    {
        if (wheel.timerCount() == 0)
        {
            // Keep the wheel's clock near now, so that a timer set after a long quiet spell does not
            // make the next poll walk every tick in between.
            if (nowNanos - wheel.currentTickTime() > TICK_NANOS)
            {
                wheel.currentTickTime(nowNanos);
            }
            return 0;
        }
        now = nowNanos;
        int fired = 0;
        // Each poll covers one tick; catch up on the ticks a parked worker slept through.
        do
        {
            fired += wheel.poll(nowNanos, this, EXPIRY_LIMIT - fired);
        }
        while (fired < EXPIRY_LIMIT && wheel.currentTickTime() <= nowNanos && wheel.timerCount() > 0);
        pendingCount = wheel.timerCount();
        return fired;
    }

    /**
     * @return how long the owner may park before the next tick is due, or {@code max} with no timer
     */
    long parkBound(final long max)
    {
        return wheel.timerCount() == 0 ? max : Math.min(max, TICK_NANOS);
    }

    long callbackErrors()
    {
        return callbackErrors;
    }

    @Override
    public boolean onTimerExpiry(final TimeUnit timeUnit, final long nowNanos, final long timerId)
    {
        final Callback callback = callbacks.remove(timerId);
        if (callback != null)
        {
            try
            {
                callback.onTimer(timerId, now);
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                callbackErrors++;
                errors.contained("timer callback threw", ex);
            }
        }
        return true;
    }

    private void checkOwner()
    {
        if (Thread.currentThread() != owner)
        {
            throw new IllegalStateException("worker timers belong to thread " + owner.getName() + " but were called from " +
                Thread.currentThread().getName() + "; schedule timers from code running on that worker");
        }
    }
}
