package io.millrace.balance;

/**
 * An upstream's settings with the group's defaults filled in. Immutable; an upstream's current
 * one is replaced whole when {@link UpstreamGroup#update} changes its spec.
 */
final class Settings
{
    final UpstreamSpec spec;
    final int weight;
    final boolean backup;
    final String zone;
    final int maxFails;
    final long failTimeoutNanos;
    final long slowStartNanos;
    final int maxConnections;
    final int maxPending;
    final int maxInFlight;
    /** True if any circuit-breaker limit is set: the pick then reads the merged counters. */
    final boolean limited;

    Settings(final UpstreamSpec spec, final GroupConfig config)
    {
        this.spec = spec;
        this.weight = spec.weight();
        this.backup = spec.backup();
        this.zone = spec.zone();
        this.maxFails = spec.maxFails() == UpstreamSpec.INHERIT ? config.maxFails : spec.maxFails();
        this.failTimeoutNanos = spec.failTimeout() == null ? config.failTimeoutNanos : spec.failTimeout().toNanos();
        this.slowStartNanos = spec.slowStart() == null ? config.slowStartNanos : spec.slowStart().toNanos();
        this.maxConnections = spec.maxConnections();
        this.maxPending = spec.maxPending();
        this.maxInFlight = spec.maxInFlight();
        this.limited = maxConnections > 0 || maxPending > 0 || maxInFlight > 0;
    }
}
