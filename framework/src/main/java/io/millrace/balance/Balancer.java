package io.millrace.balance;

import java.util.Objects;
import java.util.SplittableRandom;

/**
 * One worker's view of an {@link UpstreamGroup}: picks an upstream for each attempt with the
 * worker's own instance of a {@link BalancePolicy}, and records the attempt's start and end in the
 * worker's own statistics.
 *
 * <pre>{@code
 * Upstream u = balancer.pick(tried);                // or pick(key, tried) for the hash policies
 * if (u == null) { answer(balancer.lastFailure() == PickFailure.BUSY ? 503 : 502); return; }
 * balancer.onStart(u);
 * ... the attempt ...
 * balancer.onEnd(u, nanos, CallOutcome.SUCCESS);
 * }</pre>
 *
 * <p>A pick reads the group's current snapshot (one volatile read), skips upstreams the request
 * already tried, ejected or probe-down ones and those over a circuit-breaker limit, asks the policy
 * among the primaries, and only if none is left among the backups. It takes no lock and allocates
 * nothing; the policy's own state is rebuilt (allocating) only when the group changed.
 *
 * <p>Threading: owned by one worker's thread. Every method but {@link #close()} must be called on
 * that thread: the statistics it writes have that thread as their single writer. Call
 * {@link #onStart} and {@link #onEnd} of one attempt on the same balancer.
 */
public final class Balancer implements AutoCloseable
{
    /** Weight units per configured weight unit, so a slow-start ramp has 64 steps per unit. */
    static final long WEIGHT_SCALE = 64;

    static final int SKIP_TRIED = 1;
    static final int SKIP_DOWN = 2;
    static final int SKIP_BUSY = 4;

    private final UpstreamGroup group;
    private final GroupConfig config;
    private final int worker;
    private final BalancePolicy policy;
    private final Picker picker;
    private final boolean merged;
    private final boolean probes;
    final SplittableRandom random;

    // Per pick, owner thread only.
    Snapshot snap;
    long now;
    /** The key's mixed 64-bit hash, for hash and consistent-hash. */
    long keyHash;
    /** ip-hash: the address bytes (3 for IPv4, else 8 bytes of a hash), big-endian in a long. */
    long ipBytes;
    int ipLength;
    private Tried tried;
    private int skipped;
    private PickFailure lastFailure = PickFailure.NONE;
    private boolean closed;

    Balancer(final UpstreamGroup group, final int worker, final BalancePolicy policy)
    {
        this.group = group;
        this.config = group.config();
        this.worker = worker;
        this.policy = policy;
        this.merged = config.statsView == StatsView.MERGED;
        this.probes = config.probes;
        this.random = new SplittableRandom(KeyHash.mix(policy.seed() + worker * 0x9E3779B97F4A7C15L));
        this.picker = policy.newPicker(this);
    }

    /** @return the worker index */
    public int worker()
    {
        return worker;
    }

    /** @return the policy */
    public BalancePolicy policy()
    {
        return policy;
    }

    /** @return the group */
    public UpstreamGroup group()
    {
        return group;
    }

    /** @return true if this policy needs a key: use {@link #pick(long, Tried)} or {@link #pick(CharSequence, Tried)} */
    public boolean needsKey()
    {
        return policy.needsKey();
    }

    /**
     * Picks an upstream for a policy that needs no key.
     *
     * @param tried the upstreams this request already tried (the pick is added to it), or null
     * @return the upstream, or null if none can take the request: see {@link #lastFailure()}
     * @throws IllegalStateException for a hash policy, which needs a key
     */
    public Upstream pick(final Tried tried)
    {
        if (policy.needsKey())
        {
            throw new IllegalStateException("policy '" + policy.name() + "' picks by a request key: call " +
                "pick(key, tried) with the client address or the key to hash");
        }
        return pickWith(tried);
    }

    /**
     * Picks an upstream by a key given as a number: a hash of any request key for {@code hash} and
     * {@code consistent-hash} (mixed again here, so a weak hash will do), or an IPv4 address
     * ({@code a << 24 | b << 16 | c << 8 | d}) for {@code ip-hash}. Other policies ignore it.
     *
     * @param key   the key
     * @param tried the upstreams this request already tried (the pick is added to it), or null
     * @return the upstream, or null: see {@link #lastFailure()}
     */
    public Upstream pick(final long key, final Tried tried)
    {
        this.keyHash = KeyHash.mix(key);
        this.ipBytes = (key >>> 8) & 0xFFFFFF;
        this.ipLength = 3;
        return pickWith(tried);
    }

    /**
     * Picks an upstream by a key given as text, hashed without allocation: any request key for
     * {@code hash} and {@code consistent-hash}; for {@code ip-hash} the client address, of which a
     * dotted-quad IPv4 address counts by its first three octets (as nginx) and anything else (an
     * IPv6 address, in one canonical spelling) whole. Other policies ignore it.
     *
     * @param key   the key
     * @param tried the upstreams this request already tried (the pick is added to it), or null
     * @return the upstream, or null: see {@link #lastFailure()}
     */
    public Upstream pick(final CharSequence key, final Tried tried)
    {
        final long h = KeyHash.ofChars(key);
        this.keyHash = h;
        final int prefix = KeyHash.ipv4Prefix(key);
        this.ipBytes = prefix >= 0 ? prefix : h;
        this.ipLength = prefix >= 0 ? 3 : 8;
        return pickWith(tried);
    }

    private Upstream pickWith(final Tried exclude)
    {
        if (closed)
        {
            throw new IllegalStateException("balancer of worker " + worker + " on group '" + config.name +
                "' is closed: make a new one with group.balancer(worker, policy)");
        }
        final Snapshot s = group.current();
        if (s != snap)
        {
            picker.onSnapshot(snap, s);
            snap = s;
        }
        now = config.clock.getAsLong();
        tried = exclude;
        skipped = 0;
        int chosen = s.primaries > 0 ? picker.choose(0, s.primaries) : -1;
        if (chosen < 0 && s.members.length > s.primaries)
        {
            chosen = picker.choose(s.primaries, s.members.length);
        }
        tried = null;
        if (chosen < 0)
        {
            lastFailure = (skipped & SKIP_BUSY) != 0 ? PickFailure.BUSY
                : (skipped & SKIP_DOWN) != 0 ? PickFailure.DOWN
                : (skipped & SKIP_TRIED) != 0 ? PickFailure.TRIED : PickFailure.EMPTY;
            return null;
        }
        lastFailure = PickFailure.NONE;
        final Upstream u = s.members[chosen];
        if (exclude != null)
        {
            exclude.add(u);
        }
        return u;
    }

    /** @return why the last pick returned null, or {@link PickFailure#NONE} if it found one */
    public PickFailure lastFailure()
    {
        return lastFailure;
    }

    /** An attempt on {@code u} starts: one more in flight. */
    public void onStart(final Upstream u)
    {
        check(u);
        u.cells.add(worker, WorkerCells.IN_FLIGHT, 1);
        u.cells.add(worker, WorkerCells.REQUESTS, 1);
    }

    /**
     * An attempt on {@code u} ended.
     *
     * @param latencyNanos how long it took (averaged only for {@link CallOutcome#SUCCESS})
     * @param outcome      how it ended; a failure counts toward ejection
     */
    public void onEnd(final Upstream u, final long latencyNanos, final CallOutcome outcome)
    {
        check(u);
        u.cells.add(worker, WorkerCells.IN_FLIGHT, -1);
        switch (outcome)
        {
            case SUCCESS ->
            {
                final long t = config.clock.getAsLong();
                u.cells.add(worker, WorkerCells.SUCCESSES, 1);
                u.cells.recordLatency(worker, latencyNanos, t);
                u.health.onSuccess(t, probes);
            }
            case FAILURE ->
            {
                u.cells.add(worker, WorkerCells.FAILURES, 1);
                u.health.onFailure(config.clock.getAsLong(), u.settings(), config, group, u);
            }
            case NEUTRAL -> u.cells.add(worker, WorkerCells.NEUTRAL, 1);
            default -> throw new IllegalArgumentException("outcome " + outcome);
        }
        if (u.isDraining())
        {
            group.reapIfIdle(u);
        }
    }

    /** The transport opened a connection to {@code u} for a request (busy, not idle). */
    public void connectionOpened(final Upstream u)
    {
        check(u);
        u.cells.add(worker, WorkerCells.CONNECTIONS, 1);
    }

    /** A connection to {@code u} went back to this worker's pool, idle. */
    public void connectionIdle(final Upstream u)
    {
        check(u);
        u.cells.add(worker, WorkerCells.IDLE_CONNECTIONS, 1);
    }

    /** An idle pooled connection to {@code u} was taken for a request. */
    public void connectionReused(final Upstream u)
    {
        check(u);
        u.cells.add(worker, WorkerCells.IDLE_CONNECTIONS, -1);
    }

    /**
     * A connection to {@code u} closed.
     *
     * @param wasIdle true if it was idle in the pool when it closed
     */
    public void connectionClosed(final Upstream u, final boolean wasIdle)
    {
        check(u);
        u.cells.add(worker, WorkerCells.CONNECTIONS, -1);
        if (wasIdle)
        {
            u.cells.add(worker, WorkerCells.IDLE_CONNECTIONS, -1);
        }
    }

    /** A request for {@code u} waits for a connection (counts toward {@code max-pending}). */
    public void pendingStarted(final Upstream u)
    {
        check(u);
        u.cells.add(worker, WorkerCells.PENDING, 1);
    }

    /** A request for {@code u} stopped waiting for a connection (it got one, or gave up). */
    public void pendingEnded(final Upstream u)
    {
        check(u);
        u.cells.add(worker, WorkerCells.PENDING, -1);
        if (u.isDraining())
        {
            group.reapIfIdle(u);
        }
    }

    /** Frees the worker's place, so that another balancer can be made for it. Further picks throw. */
    @Override
    public void close()
    {
        closed = true;
        group.release(this);
    }

    private void check(final Upstream u)
    {
        if (u.group() != group)
        {
            throw new IllegalArgumentException(u + " is not of group '" + config.name + "': report an attempt to " +
                "the balancer that picked it");
        }
    }

    // ---- for pickers: the candidate at index i of the current snapshot, during a pick ----

    /** @return true if member {@code i} may take this request; records why not */
    boolean eligible(final int i)
    {
        final Upstream u = snap.members[i];
        if (tried != null && tried.contains(u))
        {
            skipped |= SKIP_TRIED;
            return false;
        }
        if (!u.health.record().admitted(now, probes))
        {
            skipped |= SKIP_DOWN;
            return false;
        }
        final Settings s = snap.settings[i];
        if (s.limited && overLimit(u, s))
        {
            skipped |= SKIP_BUSY;
            return false;
        }
        return true;
    }

    /** Records that a policy's own limit (an active limit) refused a candidate. */
    void refusedBusy()
    {
        skipped |= SKIP_BUSY;
    }

    private boolean overLimit(final Upstream u, final Settings s)
    {
        final WorkerCells c = u.cells;
        return s.maxInFlight > 0 && c.sum(WorkerCells.IN_FLIGHT) >= s.maxInFlight
            || s.maxPending > 0 && c.sum(WorkerCells.PENDING) >= s.maxPending
            || s.maxConnections > 0 && c.sum(WorkerCells.CONNECTIONS) >= s.maxConnections
                && c.get(worker, WorkerCells.IDLE_CONNECTIONS) <= 0;
    }

    /** @return true if member {@code i} is down by health (ejected or probe-down): Ribbon's "tripped" */
    boolean tripped(final int i)
    {
        return !snap.members[i].health.record().admitted(now, probes);
    }

    /** @return member {@code i}'s weight in {@link #WEIGHT_SCALE} units, slow-start ramp applied */
    long weight(final int i)
    {
        final Settings s = snap.settings[i];
        if (s.slowStartNanos <= 0)
        {
            return s.weight * WEIGHT_SCALE;
        }
        return s.weight * Health.ramp(snap.members[i].health.record(), now, s.slowStartNanos, probes, WEIGHT_SCALE);
    }

    /** @return member {@code i}'s requests in flight, in the group's view */
    long inFlight(final int i)
    {
        final WorkerCells c = snap.members[i].cells;
        return Math.max(0, merged ? c.sum(WorkerCells.IN_FLIGHT) : c.get(worker, WorkerCells.IN_FLIGHT));
    }

    /** @return member {@code i}'s decaying average latency in nanoseconds, in the group's view; 0 before any */
    long latency(final int i)
    {
        final WorkerCells c = snap.members[i].cells;
        return merged ? c.mergedLatency(now, config.latencyDecayNanos)
            : c.decayedLatency(worker, now, config.latencyDecayNanos);
    }

    @Override
    public String toString()
    {
        return "balancer of worker " + worker + " on group '" + config.name + "' (" + policy.name() + ")";
    }
}
