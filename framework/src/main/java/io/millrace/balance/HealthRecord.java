package io.millrace.balance;

/**
 * One immutable value of an upstream's shared health: passive failure counting and ejection,
 * and the active-probe state machine. {@link Health} swaps whole records with a CAS, so a reader
 * always sees fields that belong together.
 *
 * <p>Times are clock readings in nanoseconds, compared by subtraction (they may be negative, as
 * {@code System.nanoTime()} may). Flags say whether a time has ever been set.
 */
final class HealthRecord
{
    /** Failures counted in the current window. */
    final int fails;
    /** Clock reading of the window's first failure. */
    final long windowStart;
    /** True once the upstream has been passively ejected; {@link #ejectedUntil} is then meaningful. */
    final boolean everEjected;
    /** When the last passive ejection ends (or ended). */
    final long ejectedUntil;
    /** Ejections in a row, for the back-off: the next lasts fail-timeout x 2^streak, capped. */
    final int streak;
    /** Set by an ejection, cleared by the first success after re-admission: one failure before that re-ejects. */
    final boolean probation;
    final long ejections;
    final long refusedEjections;
    /** The probe health counter, 0 to rise + fall - 1. */
    final int probeHealth;
    final boolean probeUp;
    /** True once probes brought the upstream up after it had been up before: {@link #probeUpAt} starts a ramp. */
    final boolean probeRecovered;
    final long probeUpAt;
    /** True if the probes have ever seen the upstream up (an initially-down server's first rise is no recovery). */
    final boolean probeEverUp;

    HealthRecord(final int fails, final long windowStart, final boolean everEjected, final long ejectedUntil,
        final int streak, final boolean probation, final long ejections, final long refusedEjections,
        final int probeHealth, final boolean probeUp, final boolean probeRecovered, final long probeUpAt,
        final boolean probeEverUp)
    {
        this.fails = fails;
        this.windowStart = windowStart;
        this.everEjected = everEjected;
        this.ejectedUntil = ejectedUntil;
        this.streak = streak;
        this.probation = probation;
        this.ejections = ejections;
        this.refusedEjections = refusedEjections;
        this.probeHealth = probeHealth;
        this.probeUp = probeUp;
        this.probeRecovered = probeRecovered;
        this.probeUpAt = probeUpAt;
        this.probeEverUp = probeEverUp;
    }

    static HealthRecord initial(final GroupConfig config)
    {
        final int health = config.probes ? config.initialProbeHealth() : 0;
        final boolean up = !config.probes || health >= config.rise;
        return new HealthRecord(0, 0, false, 0, 0, false, 0, 0, health, up, false, 0, up);
    }

    /** @return true while a passive ejection lasts */
    boolean ejectedAt(final long now)
    {
        return everEjected && now - ejectedUntil < 0;
    }

    /** @return true if new requests may go to the upstream: not ejected, and up by probes where they run */
    boolean admitted(final long now, final boolean probes)
    {
        return !ejectedAt(now) && (!probes || probeUp);
    }

    HealthRecord withFails(final int count, final long start)
    {
        return new HealthRecord(count, start, everEjected, ejectedUntil, streak, probation, ejections, refusedEjections,
            probeHealth, probeUp, probeRecovered, probeUpAt, probeEverUp);
    }

    HealthRecord ejected(final long until, final int newStreak, final boolean probes)
    {
        return new HealthRecord(0, 0, true, until, newStreak, true, ejections + 1, refusedEjections,
            probes ? 0 : probeHealth, !probes && probeUp, probeRecovered, probeUpAt, probeEverUp);
    }

    HealthRecord refused()
    {
        return new HealthRecord(0, 0, everEjected, ejectedUntil, streak, probation, ejections, refusedEjections + 1,
            probeHealth, probeUp, probeRecovered, probeUpAt, probeEverUp);
    }

    HealthRecord offProbation()
    {
        return new HealthRecord(fails, windowStart, everEjected, ejectedUntil, streak, false, ejections, refusedEjections,
            probeHealth, probeUp, probeRecovered, probeUpAt, probeEverUp);
    }

    HealthRecord withProbe(final int health, final boolean up, final boolean recovered, final long upAt)
    {
        return new HealthRecord(fails, windowStart, everEjected, ejectedUntil, streak, probation, ejections,
            refusedEjections, health, up, recovered, upAt, probeEverUp || up);
    }
}
