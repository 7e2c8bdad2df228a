package io.millrace.balance;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A set of upstream servers that can change while requests flow: {@link #add}, {@link #remove},
 * {@link #drain} (no new requests; removed once its requests in flight have ended) and
 * {@link #update} (a whole new list, as Ribbon refreshes its server list: kept servers keep their
 * identity and statistics, new ones join, missing ones drain). Each worker picks through its own
 * {@link Balancer}, from {@link #balancer(int, BalancePolicy)}.
 *
 * <pre>{@code
 * UpstreamGroup group = UpstreamGroup.builder().workers(4)
 *     .add(UpstreamSpec.parse("127.0.0.1:9001"), UpstreamSpec.parse("127.0.0.1:9002,weight=3"))
 *     .build();
 * Balancer b = group.balancer(workerIndex, BalancePolicy.named("least-time"));   // on that worker
 * }</pre>
 *
 * <p>Threading: changes may come from any thread; they are serialised by a lock of the group's own,
 * build a new immutable {@link Snapshot} and publish it with a volatile write (copy on write).
 * Workers read the current snapshot with a volatile read and take no lock: a pick never waits for a
 * change. Upstream objects outlive snapshots, so per-worker statistics survive every change.
 */
public final class UpstreamGroup
{
    /** Most upstreams (taking requests or draining) a group holds at once. */
    public static final int MAX_UPSTREAMS = 1 << 16;

    private final GroupConfig config;
    private final Object lock = new Object();
    private final Object ejectionLock = new Object();
    // Guarded by lock.
    private final Membership membership;
    private final Balancer[] balancers;
    private volatile Snapshot current;

    UpstreamGroup(final GroupConfig config, final List<UpstreamSpec> initial)
    {
        this.config = config;
        this.balancers = new Balancer[config.workers];
        this.membership = new Membership(this, config);
        synchronized (lock)
        {
            for (final UpstreamSpec spec : initial)
            {
                membership.add(spec);
            }
            current = membership.snapshot();
        }
    }

    /** @return a builder */
    public static UpstreamGroupBuilder builder()
    {
        return new UpstreamGroupBuilder();
    }

    /** @return the group's name */
    public String name()
    {
        return config.name;
    }

    /** @return the number of workers (balancers) the group was built for */
    public int workers()
    {
        return config.workers;
    }

    /** @return a reading of the group's clock, in nanoseconds */
    public long now()
    {
        return config.clock.getAsLong();
    }

    GroupConfig config()
    {
        return config;
    }

    Snapshot current()
    {
        return current;
    }

    /**
     * Creates worker {@code worker}'s balancer. Use it on that worker's thread only: it writes the
     * worker's statistics without synchronisation. One per worker at a time; {@link Balancer#close()}
     * it before making another (to change policy, for example).
     *
     * @param worker 0 to {@link #workers()} - 1
     * @param policy the policy, e.g. {@code BalancePolicy.named("round-robin")}
     * @return the balancer
     * @throws IllegalStateException if the worker already has an open balancer on this group
     */
    public Balancer balancer(final int worker, final BalancePolicy policy)
    {
        Objects.requireNonNull(policy, "policy");
        if (worker < 0 || worker >= config.workers)
        {
            throw new IllegalArgumentException("worker must be 0 to " + (config.workers - 1) + " for group '" +
                config.name + "', was " + worker + ": build the group with workers(n) for as many workers as pick");
        }
        synchronized (lock)
        {
            if (balancers[worker] != null)
            {
                throw new IllegalStateException("worker " + worker + " already has a balancer on group '" + config.name +
                    "': two would both write its statistics; close() the first one before making another");
            }
            final Balancer b = new Balancer(this, worker, policy);
            balancers[worker] = b;
            return b;
        }
    }

    void release(final Balancer b)
    {
        synchronized (lock)
        {
            if (balancers[b.worker()] == b)
            {
                balancers[b.worker()] = null;
            }
        }
    }

    /**
     * Adds an upstream. It takes requests from the next pick on.
     *
     * @return the new upstream
     * @throws IllegalArgumentException if the group already has an upstream of that name (taking
     *                                  requests or draining)
     */
    public Upstream add(final UpstreamSpec spec)
    {
        Objects.requireNonNull(spec, "spec");
        synchronized (lock)
        {
            final Upstream u = membership.add(spec);
            current = membership.snapshot();
            return u;
        }
    }

    /**
     * Removes an upstream at once. Requests already sent to it go on; their ends are still counted.
     *
     * @return false if it was not in the group
     */
    public boolean remove(final Upstream upstream)
    {
        synchronized (lock)
        {
            if (!membership.remove(upstream))
            {
                return false;
            }
            current = membership.snapshot();
            return true;
        }
    }

    /**
     * Drains an upstream: no new requests from the next pick on; once its requests in flight (and
     * those waiting for a connection) have ended it is removed. If it is idle already it is removed
     * at once.
     *
     * @return false if it was not taking requests (not in the group, or already draining)
     */
    public boolean drain(final Upstream upstream)
    {
        synchronized (lock)
        {
            if (!membership.drain(upstream))
            {
                return false;
            }
            current = membership.snapshot();
        }
        reapIfIdle(upstream);
        return true;
    }

    /**
     * Makes the group what {@code specs} says, as Ribbon's server-list refresh does: an upstream
     * whose name is in both keeps its identity and statistics (and takes the new settings, or
     * comes back from draining); a new name joins; an upstream missing from the list drains.
     *
     * @param specs the new list; names must be unique
     * @return what changed
     */
    public RefreshResult update(final List<UpstreamSpec> specs)
    {
        Objects.requireNonNull(specs, "specs");
        final Set<String> names = new HashSet<>();
        for (final UpstreamSpec spec : specs)
        {
            if (!names.add(Objects.requireNonNull(spec, "specs contains null").name()))
            {
                throw new IllegalArgumentException(spec.name() + " is listed twice; list each upstream once");
            }
        }
        final List<Upstream> nowDraining = new ArrayList<>();
        final RefreshResult result;
        synchronized (lock)
        {
            result = membership.update(specs, names, nowDraining);
            current = membership.snapshot();
        }
        for (final Upstream u : nowDraining)
        {
            reapIfIdle(u);
        }
        return result;
    }

    /** @return the upstream of that name, taking requests or draining, or null */
    public Upstream find(final String name)
    {
        synchronized (lock)
        {
            return membership.find(name);
        }
    }

    /** @return the upstreams taking requests (primaries, then backups), then those draining */
    public List<Upstream> upstreams()
    {
        final Snapshot s = current;
        final List<Upstream> all = new ArrayList<>(s.members.length + s.draining.length);
        all.addAll(List.of(s.members));
        all.addAll(List.of(s.draining));
        return all;
    }

    /** @return every upstream's figures, in {@link #upstreams()} order */
    public List<UpstreamStats> stats()
    {
        final List<UpstreamStats> out = new ArrayList<>();
        for (final Upstream u : upstreams())
        {
            out.add(u.stats());
        }
        return out;
    }

    /**
     * Removes the draining upstreams that are idle. Balancers do it as the last request of a
     * draining upstream ends; call this from a timer too, for an end that raced with the drain.
     *
     * @return how many were removed
     */
    public int reapDrained()
    {
        int n = 0;
        for (final Upstream u : current.draining)
        {
            if (reapIfIdle(u))
            {
                n++;
            }
        }
        return n;
    }

    boolean reapIfIdle(final Upstream u)
    {
        // A request that started just as its upstream left ends here too: no lock for it.
        if (u.isRemoved() || u.cells.sum(WorkerCells.IN_FLIGHT) > 0 || u.cells.sum(WorkerCells.PENDING) > 0)
        {
            return false;
        }
        synchronized (lock)
        {
            if (!membership.reap(u))
            {
                return false;
            }
            current = membership.snapshot();
            return true;
        }
    }

    /**
     * @param now a reading of the group's clock
     * @return nanoseconds until the earliest probe is due (0 if one is due), or -1 without probes or upstreams
     */
    public long nanosUntilNextProbe(final long now)
    {
        if (!config.probes)
        {
            return -1;
        }
        long best = -1;
        for (final Upstream u : current.members)
        {
            final long wait = Math.max(0, u.health.nextProbeAt() - now);
            best = best < 0 ? wait : Math.min(best, wait);
        }
        return best;
    }

    /**
     * Claims every due probe ({@link Upstream#tryStartProbe}); the caller runs each and reports.
     *
     * @param now a reading of the group's clock
     * @return the upstreams to probe now; empty without probes
     */
    public List<Upstream> claimDueProbes(final long now)
    {
        final List<Upstream> due = new ArrayList<>();
        if (config.probes)
        {
            for (final Upstream u : current.members)
            {
                if (u.health.tryStartProbe(now, config.probeIntervalNanos))
                {
                    due.add(u);
                }
            }
        }
        return due;
    }

    Object ejectionLock()
    {
        return ejectionLock;
    }

    /** Called under {@link #ejectionLock}: may one more upstream be ejected under max-ejection-percent? */
    boolean mayEject(final Upstream self, final long now)
    {
        final Upstream[] members = current.members;
        int ejected = 0;
        for (final Upstream u : members)
        {
            if (u != self && u.health.record().ejectedAt(now))
            {
                ejected++;
            }
        }
        // Envoy's rule: at least one may always be ejected, whatever the percentage.
        final int allowed = Math.max(1, (int)((long)members.length * config.maxEjectionPercent / 100));
        return ejected < allowed;
    }

    @Override
    public String toString()
    {
        final Snapshot s = current;
        return "upstream group '" + config.name + "' (" + s.members.length + " taking requests, " + s.draining.length +
            " draining)";
    }
}
