package io.millrace.balance;

import java.util.function.LongSupplier;

/**
 * A group's fixed settings, validated by {@link UpstreamGroupBuilder} and never changed after.
 * Immutable, so any thread reads it freely.
 */
final class GroupConfig
{
    final String name;
    final int workers;
    final LongSupplier clock;
    final int maxFails;
    final long failTimeoutNanos;
    final long maxEjectionNanos;
    final int maxEjectionPercent;
    final long slowStartNanos;
    final long latencyDecayNanos;
    final StatsView statsView;
    final boolean probes;
    final long probeIntervalNanos;
    final int rise;
    final int fall;
    final ProbeInitialState probeInitialState;

    GroupConfig(final String name, final int workers, final LongSupplier clock, final int maxFails,
        final long failTimeoutNanos, final long maxEjectionNanos, final int maxEjectionPercent, final long slowStartNanos,
        final long latencyDecayNanos, final StatsView statsView, final boolean probes, final long probeIntervalNanos,
        final int rise, final int fall, final ProbeInitialState probeInitialState)
    {
        this.name = name;
        this.workers = workers;
        this.clock = clock;
        this.maxFails = maxFails;
        this.failTimeoutNanos = failTimeoutNanos;
        this.maxEjectionNanos = maxEjectionNanos;
        this.maxEjectionPercent = maxEjectionPercent;
        this.slowStartNanos = slowStartNanos;
        this.latencyDecayNanos = latencyDecayNanos;
        this.statsView = statsView;
        this.probes = probes;
        this.probeIntervalNanos = probeIntervalNanos;
        this.rise = rise;
        this.fall = fall;
        this.probeInitialState = probeInitialState;
    }

    /** @return the probe health counter an upstream starts with */
    int initialProbeHealth()
    {
        return switch (probeInitialState)
        {
            case FULLY_UP -> rise + fall - 1;
            case UP -> rise;
            case DOWN -> rise - 1;
            case FULLY_DOWN -> 0;
        };
    }
}
