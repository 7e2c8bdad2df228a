package io.millrace.balance;

/**
 * One upstream server of an {@link UpstreamGroup}: its identity, settings, shared health and
 * per-worker statistics. The object stays the same for as long as the server stays in the group,
 * whatever {@link UpstreamGroup#update} changes around it, so its statistics survive a refresh.
 * Compare upstreams by identity.
 *
 * <p>The active-probe API is here: the probe I/O belongs to whoever runs it (the workers' timers),
 * this object only keeps the state machine and the schedule. A timer calls
 * {@link #tryStartProbe(long)}; exactly one caller wins a due probe, runs it and reports
 * {@link #probeSucceeded()} or {@link #probeFailed()}.
 *
 * <p>Threading: every method may be called from any thread. Settings and flags are volatile;
 * health is {@link Health}'s; statistics are read merged over workers, without locks.
 */
public final class Upstream
{
    private final UpstreamGroup group;
    private final GroupConfig config;
    private final int id;
    private final String name;
    final WorkerCells cells;
    final Health health;
    private volatile Settings settings;
    private volatile boolean draining;
    private volatile boolean removed;

    Upstream(final UpstreamGroup group, final GroupConfig config, final int id, final Settings settings, final long now)
    {
        this.group = group;
        this.config = config;
        this.id = id;
        this.name = settings.spec.name();
        this.settings = settings;
        this.cells = new WorkerCells(config.workers);
        this.health = new Health(config, now);
    }

    /** @return the name, {@code host:port} or the endpoint's name: unique in the group */
    public String name()
    {
        return name;
    }

    /** @return a number unique among the upstreams this group ever had (not reused) */
    public int id()
    {
        return id;
    }

    /** @return the current spec (it changes if {@link UpstreamGroup#update} changed this server's settings) */
    public UpstreamSpec spec()
    {
        return settings.spec;
    }

    /** @return the group this upstream belongs (or belonged) to */
    public UpstreamGroup group()
    {
        return group;
    }

    Settings settings()
    {
        return settings;
    }

    void settings(final Settings next)
    {
        this.settings = next;
    }

    /** @return true once drained: no new requests; removed when idle */
    public boolean isDraining()
    {
        return draining;
    }

    void markDraining()
    {
        this.draining = true;
    }

    void undrain()
    {
        this.draining = false;
    }

    /** @return true once out of the group; requests already sent to it may still end */
    public boolean isRemoved()
    {
        return removed;
    }

    void markRemoved()
    {
        this.removed = true;
    }

    /** @return true if new requests may go here as far as health says (not ejected, not down by probes) */
    public boolean isAdmitted()
    {
        return health.record().admitted(config.clock.getAsLong(), config.probes);
    }

    /** @return the state now */
    public UpstreamState state()
    {
        return state(config.clock.getAsLong());
    }

    UpstreamState state(final long now)
    {
        if (removed)
        {
            return UpstreamState.REMOVED;
        }
        if (draining)
        {
            return UpstreamState.DRAINING;
        }
        final HealthRecord r = health.record();
        if (r.ejectedAt(now))
        {
            return UpstreamState.EJECTED;
        }
        if (config.probes && !r.probeUp)
        {
            return UpstreamState.PROBE_DOWN;
        }
        return Health.ramp(r, now, settings.slowStartNanos, config.probes, 1000) < 1000
            ? UpstreamState.SLOW_START : UpstreamState.UP;
    }

    /** @return requests in flight, summed over workers */
    public long inFlight()
    {
        return Math.max(0, cells.sum(WorkerCells.IN_FLIGHT));
    }

    /** @return requests started, summed over workers */
    public long requests()
    {
        return cells.sum(WorkerCells.REQUESTS);
    }

    /** @return attempts that ended in {@link CallOutcome#FAILURE}, summed over workers */
    public long failures()
    {
        return cells.sum(WorkerCells.FAILURES);
    }

    /** @return the decaying average latency of successful attempts, merged over workers; 0 before any */
    public long latencyNanos()
    {
        return cells.mergedLatency(config.clock.getAsLong(), config.latencyDecayNanos);
    }

    /** @return this upstream's figures now, merged over workers */
    public UpstreamStats stats()
    {
        final long now = config.clock.getAsLong();
        final Settings s = settings;
        final HealthRecord r = health.record();
        final long samples = cells.sum(WorkerCells.SAMPLES);
        return new UpstreamStats(name, state(now), s.weight,
            (int)Health.ramp(r, now, s.slowStartNanos, config.probes, 1000), s.backup, s.zone, inFlight(),
            requests(), cells.sum(WorkerCells.SUCCESSES), failures(), r.ejections, r.refusedEjections,
            cells.mergedLatency(now, config.latencyDecayNanos),
            samples == 0 ? 0 : cells.sum(WorkerCells.LATENCY_SUM) / samples,
            Math.max(0, cells.sum(WorkerCells.CONNECTIONS)), Math.max(0, cells.sum(WorkerCells.PENDING)));
    }

    /** @return true if the group runs active probes */
    public boolean probesEnabled()
    {
        return config.probes;
    }

    /**
     * @param now a reading of the group's clock
     * @return true if a probe of this upstream is due (another thread may still win it)
     * @throws IllegalStateException if the group runs no probes
     */
    public boolean probeDue(final long now)
    {
        requireProbes();
        return now - health.nextProbeAt() >= 0;
    }

    /**
     * @return the clock reading at which the next probe is due
     * @throws IllegalStateException if the group runs no probes
     */
    public long nextProbeAt()
    {
        requireProbes();
        return health.nextProbeAt();
    }

    /**
     * Claims a due probe: true for exactly one caller, which must then run the probe and report
     * its result; the next probe becomes due one interval from {@code now}.
     *
     * @param now a reading of the group's clock
     * @return true if the caller won the probe
     * @throws IllegalStateException if the group runs no probes
     */
    public boolean tryStartProbe(final long now)
    {
        requireProbes();
        return health.tryStartProbe(now, config.probeIntervalNanos);
    }

    /**
     * Reports a successful probe. {@code rise} of them in a row bring a down upstream up (and,
     * after a passive ejection, it also waits for the ejection to end).
     *
     * @return true if this probe brought it up
     */
    public boolean probeSucceeded()
    {
        requireProbes();
        return health.probeSucceeded(config.clock.getAsLong(), config);
    }

    /**
     * Reports a failed probe: {@code fall} of them in a row take an up upstream down.
     *
     * @return true if this probe took it down
     */
    public boolean probeFailed()
    {
        requireProbes();
        return health.probeFailed(config);
    }

    private void requireProbes()
    {
        if (!config.probes)
        {
            throw new IllegalStateException("group '" + config.name + "' runs no active probes: configure them with " +
                "UpstreamGroupBuilder.probes(interval, rise, fall)");
        }
    }

    @Override
    public String toString()
    {
        return "upstream " + name + " of group '" + config.name + "'";
    }
}
