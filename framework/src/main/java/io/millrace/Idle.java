package io.millrace;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;

import java.util.function.Supplier;

/**
 * How a worker idles when its inbox is empty: an Agrona {@link IdleStrategy} per worker, plus the
 * number of consecutive empty turns after which that strategy may park the thread.
 *
 * <p>A worker announces that it is parking only on turns where its strategy may park; a producer
 * that publishes into its inbox unparks it only then. So a spinning worker costs producers nothing,
 * and a parked one wakes at once instead of at the end of its park period.
 */
public final class Idle
{
    private final String name;
    private final Supplier<IdleStrategy> factory;
    private final long emptyTurnsBeforePark;

    private Idle(final String name, final Supplier<IdleStrategy> factory, final long emptyTurnsBeforePark)
    {
        this.name = name;
        this.factory = factory;
        this.emptyTurnsBeforePark = emptyTurnsBeforePark;
    }

    /**
     * Spin forever: the lowest latency, one core burnt per worker. Never parks, so producers never wake.
     *
     * @return busy-spin idling
     */
    public static Idle busySpin()
    {
        return new Idle("busy-spin", BusySpinIdleStrategy::new, Long.MAX_VALUE);
    }

    /**
     * Agrona's default backoff: spin, then yield, then park from 1 µs doubling up to 1 ms. The default.
     *
     * @return backoff idling
     */
    public static Idle backoff()
    {
        return backoff(BackoffIdleStrategy.DEFAULT_MAX_SPINS, BackoffIdleStrategy.DEFAULT_MAX_YIELDS,
            BackoffIdleStrategy.DEFAULT_MIN_PARK_PERIOD_NS, BackoffIdleStrategy.DEFAULT_MAX_PARK_PERIOD_NS);
    }

    /**
     * Backoff with explicit phases.
     *
     * @param maxSpins         empty turns spent spinning
     * @param maxYields        empty turns spent yielding after that
     * @param minParkPeriodNs  first park period
     * @param maxParkPeriodNs  longest park period
     * @return backoff idling
     */
    public static Idle backoff(final long maxSpins, final long maxYields, final long minParkPeriodNs, final long maxParkPeriodNs)
    {
        if (maxSpins < 0 || maxYields < 0 || minParkPeriodNs < 1 || maxParkPeriodNs < minParkPeriodNs)
        {
            throw new IllegalArgumentException("backoff needs maxSpins >= 0, maxYields >= 0 and 1 <= minParkPeriodNs <= maxParkPeriodNs");
        }
        return new Idle("backoff", () -> new BackoffIdleStrategy(maxSpins, maxYields, minParkPeriodNs, maxParkPeriodNs),
            maxSpins + maxYields);
    }

    /**
     * Park for a fixed period on every empty turn: least CPU, highest wake-up latency when no
     * producer announces work.
     *
     * @param sleepPeriodNs park period in nanoseconds
     * @return sleeping idling
     */
    public static Idle sleeping(final long sleepPeriodNs)
    {
        if (sleepPeriodNs < 1)
        {
            throw new IllegalArgumentException("sleeping needs a period of at least 1 ns, was " + sleepPeriodNs);
        }
        return new Idle("sleeping", () -> new SleepingIdleStrategy(sleepPeriodNs), 0);
    }

    /**
     * @return a new strategy for one worker (strategies hold per-thread state)
     */
    public IdleStrategy newStrategy()
    {
        return factory.get();
    }

    /**
     * @return empty turns after which the strategy may park, {@link Long#MAX_VALUE} if never
     */
    public long emptyTurnsBeforePark()
    {
        return emptyTurnsBeforePark;
    }

    @Override
    public String toString()
    {
        return name;
    }
}
