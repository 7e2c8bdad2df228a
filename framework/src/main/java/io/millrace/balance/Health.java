package io.millrace.balance;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One upstream's health, shared by every worker so that "ejected" means the same on all of them.
 *
 * <p>Threading: any thread. The state is one immutable {@link HealthRecord} behind a volatile
 * field; a pick reads it with one volatile load. Changes (a failure, the first success after
 * re-admission, a probe result) build a new record and CAS it in, retrying on a lost race. Only
 * those events write, and they are rare next to picks; a success outside probation writes
 * nothing, so the common case costs no atomic instruction and no cache-line transfer. Where the
 * group caps the share of ejected upstreams, an ejection also holds the group's ejection lock while
 * it counts and swaps, so that two workers cannot both take the last allowed place.
 */
final class Health
{
    private static final VarHandle STATE;
    private static final VarHandle NEXT_PROBE;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(Health.class, "state", HealthRecord.class);
            NEXT_PROBE = lookup.findVarHandle(Health.class, "nextProbeAt", long.class);
        }
        catch (final ReflectiveOperationException e)
        {
            throw new ExceptionInInitializerError(e);
        }
    }

    private volatile HealthRecord state;
    private volatile long nextProbeAt;

    Health(final GroupConfig config, final long now)
    {
        this.state = HealthRecord.initial(config);
        this.nextProbeAt = now;
    }

    HealthRecord record()
    {
        return state;
    }

    /**
     * A failed attempt: counts it in the fail-timeout window and ejects at max-fails (or at once
     * on probation). Failures of attempts that were already under way when the upstream was
     * ejected change nothing: they do not lengthen the ejection.
     *
     * @return true if this failure ejected the upstream
     */
    boolean onFailure(final long now, final Settings settings, final GroupConfig config, final UpstreamGroup group,
        final Upstream self)
    {
        if (settings.maxFails == 0)
        {
            return false;
        }
        while (true)
        {
            final HealthRecord r = state;
            if (r.ejectedAt(now))
            {
                return false;
            }
            final boolean inWindow = r.fails > 0 && now - r.windowStart <= settings.failTimeoutNanos;
            final int fails = inWindow ? r.fails + 1 : 1;
            final long start = inWindow ? r.windowStart : now;
            final boolean eject = fails >= settings.maxFails || r.probation && r.admitted(now, config.probes);
            if (!eject)
            {
                if (STATE.compareAndSet(this, r, r.withFails(fails, start)))
                {
                    return false;
                }
                continue;
            }
            final HealthRecord ejected = eject(r, now, settings, config);
            if (config.maxEjectionPercent >= 100)
            {
                if (STATE.compareAndSet(this, r, ejected))
                {
                    return true;
                }
                continue;
            }
            synchronized (group.ejectionLock())
            {
                if (!group.mayEject(self, now))
                {
                    if (STATE.compareAndSet(this, r, r.refused()))
                    {
                        return false;
                    }
                    continue;
                }
                if (STATE.compareAndSet(this, r, ejected))
                {
                    return true;
                }
            }
        }
    }

    private static HealthRecord eject(final HealthRecord r, final long now, final Settings settings,
        final GroupConfig config)
    {
        // The row of ejections is broken once the upstream stayed in for the whole back-off cap.
        final boolean newRow = !r.everEjected || now - r.ejectedUntil >= config.maxEjectionNanos;
        final int streak = newRow ? 1 : r.streak + 1;
        final long cap = Math.max(config.maxEjectionNanos, settings.failTimeoutNanos);
        long length = settings.failTimeoutNanos;
        for (int i = 1; i < streak && length < cap; i++)
        {
            length = length > cap / 2 ? cap : length * 2;
        }
        return r.ejected(now + Math.min(length, cap), streak, config.probes);
    }

    /** A successful attempt: ends probation once the upstream is back in. Writes nothing otherwise. */
    void onSuccess(final long now, final boolean probes)
    {
        while (true)
        {
            final HealthRecord r = state;
            if (!r.probation || !r.admitted(now, probes))
            {
                return;
            }
            if (STATE.compareAndSet(this, r, r.offProbation()))
            {
                return;
            }
        }
    }

    /** @return true if this probe brought the upstream up */
    boolean probeSucceeded(final long now, final GroupConfig config)
    {
        final int full = config.rise + config.fall - 1;
        while (true)
        {
            final HealthRecord r = state;
            final HealthRecord next;
            final boolean cameUp;
            if (r.probeUp)
            {
                cameUp = false;
                next = r.probeHealth >= full ? r : r.withProbe(r.probeHealth + 1, true, r.probeRecovered, r.probeUpAt);
            }
            else if (r.probeHealth + 1 >= config.rise)
            {
                cameUp = true;
                next = r.probeEverUp ? r.withProbe(full, true, true, now) : r.withProbe(full, true, false, r.probeUpAt);
            }
            else
            {
                cameUp = false;
                next = r.withProbe(r.probeHealth + 1, false, r.probeRecovered, r.probeUpAt);
            }
            if (next == r || STATE.compareAndSet(this, r, next))
            {
                return cameUp;
            }
        }
    }

    /** @return true if this probe took the upstream down */
    boolean probeFailed(final GroupConfig config)
    {
        while (true)
        {
            final HealthRecord r = state;
            final boolean wentDown = r.probeUp && r.probeHealth <= config.rise;
            final HealthRecord next = r.probeUp && r.probeHealth > config.rise
                ? r.withProbe(r.probeHealth - 1, true, r.probeRecovered, r.probeUpAt)
                : r.probeHealth == 0 && !r.probeUp ? r : r.withProbe(0, false, r.probeRecovered, r.probeUpAt);
            if (next == r || STATE.compareAndSet(this, r, next))
            {
                return wentDown;
            }
        }
    }

    long nextProbeAt()
    {
        return nextProbeAt;
    }

    /** @return true for exactly one caller per due probe; it moves the next one an interval on */
    boolean tryStartProbe(final long now, final long interval)
    {
        final long due = nextProbeAt;
        return now - due >= 0 && NEXT_PROBE.compareAndSet(this, due, now + interval);
    }

    /**
     * The slow-start factor: how much of its weight a re-admitted upstream gets, from 1 to
     * {@code scale}. The ramp starts when it was last re-admitted: the end of its last ejection, or
     * the probe success that brought it back up, whichever is later.
     */
    static long ramp(final HealthRecord r, final long now, final long window, final boolean probes, final long scale)
    {
        if (window <= 0)
        {
            return scale;
        }
        boolean ramping = false;
        long from = 0;
        if (r.everEjected)
        {
            ramping = true;
            from = r.ejectedUntil;
        }
        if (probes && r.probeRecovered && (!ramping || r.probeUpAt - from > 0))
        {
            ramping = true;
            from = r.probeUpAt;
        }
        if (!ramping)
        {
            return scale;
        }
        final long since = now - from;
        if (since >= window)
        {
            return scale;
        }
        return since <= 0 ? 1 : Math.max(1, (long)((double)since / window * scale));
    }
}
