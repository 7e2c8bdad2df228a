package io.millrace.balance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Defines an {@link UpstreamGroup}: its workers, clock, initial upstreams and health settings.
 * Every default is here, and {@link #build()} checks everything in one place. Not thread-safe.
 *
 * <p>Defaults: nginx's {@code max_fails=1}, {@code fail_timeout=10s}; back-off capped at 300 s
 * (Envoy's {@code max_ejection_time}); no cap on the share ejected; no active probes; no slow start;
 * latency averages halved for every 10 s without a sample; merged statistics.
 */
public final class UpstreamGroupBuilder
{
    /** Default failures within the fail timeout that eject (nginx's {@code max_fails}). */
    public static final int DEFAULT_MAX_FAILS = 1;
    /** Default fail timeout (nginx's {@code fail_timeout}). */
    public static final Duration DEFAULT_FAIL_TIMEOUT = Duration.ofSeconds(10);
    /** Default cap on an ejection's length under back-off (Envoy's {@code max_ejection_time}). */
    public static final Duration DEFAULT_MAX_EJECTION = Duration.ofSeconds(300);
    /** Default latency decay: an average is halved for each such period without a sample. */
    public static final Duration DEFAULT_LATENCY_DECAY = Duration.ofSeconds(10);

    private String name = "upstreams";
    private int workers = 1;
    private LongSupplier clock = System::nanoTime;
    private int maxFails = DEFAULT_MAX_FAILS;
    private Duration failTimeout = DEFAULT_FAIL_TIMEOUT;
    private Duration maxEjection = DEFAULT_MAX_EJECTION;
    private int maxEjectionPercent = 100;
    private Duration slowStart = Duration.ZERO;
    private Duration latencyDecay = DEFAULT_LATENCY_DECAY;
    private StatsView statsView = StatsView.MERGED;
    private Duration probeInterval;
    private int rise;
    private int fall;
    private ProbeInitialState probeInitialState = ProbeInitialState.UP;
    private final List<UpstreamSpec> specs = new ArrayList<>();

    UpstreamGroupBuilder()
    {
    }

    /**
     * @param groupName shown in messages and statistics
     * @return this builder
     */
    public UpstreamGroupBuilder name(final String groupName)
    {
        this.name = Objects.requireNonNull(groupName, "name");
        return this;
    }

    /**
     * @param count the number of workers that will pick (one {@link Balancer} each), at least 1
     * @return this builder
     */
    public UpstreamGroupBuilder workers(final int count)
    {
        if (count < 1 || count > 4096)
        {
            throw new IllegalArgumentException("workers must be 1 to 4096, was " + count);
        }
        this.workers = count;
        return this;
    }

    /**
     * @param nanos the clock every time is read from, in nanoseconds (default {@code System::nanoTime});
     *              tests pass a hand-driven one
     * @return this builder
     */
    public UpstreamGroupBuilder clock(final LongSupplier nanos)
    {
        this.clock = Objects.requireNonNull(nanos, "clock");
        return this;
    }

    /**
     * Passive health, nginx's semantics: {@code maxFails} failed attempts within {@code failTimeout}
     * eject an upstream for {@code failTimeout}. Upstreams may override both.
     *
     * @param fails   0 (never eject) to {@value UpstreamSpec#MAX_FAILS}
     * @param timeout the counting window and the first ejection's length
     * @return this builder
     */
    public UpstreamGroupBuilder passive(final int fails, final Duration timeout)
    {
        if (fails < 0 || fails > UpstreamSpec.MAX_FAILS)
        {
            throw new IllegalArgumentException("max-fails must be 0 (never eject) to " + UpstreamSpec.MAX_FAILS +
                ", was " + fails);
        }
        this.maxFails = fails;
        this.failTimeout = positive(timeout, "fail-timeout");
        return this;
    }

    /**
     * Exponential back-off: the n-th ejection in a row lasts fail-timeout x 2^(n-1), at most
     * {@code cap}. The row is broken once an upstream stays in for {@code cap}.
     *
     * @param cap the longest ejection
     * @return this builder
     */
    public UpstreamGroupBuilder maxEjection(final Duration cap)
    {
        this.maxEjection = positive(cap, "max-ejection");
        return this;
    }

    /**
     * Caps the share of upstreams ejected at once (Envoy's {@code max_ejection_percent}): an
     * ejection that would pass it is not made. At least one upstream may always be ejected.
     *
     * @param percent 0 to 100; 100 (the default) means no cap
     * @return this builder
     */
    public UpstreamGroupBuilder maxEjectionPercent(final int percent)
    {
        if (percent < 0 || percent > 100)
        {
            throw new IllegalArgumentException("max-ejection-percent must be 0 to 100, was " + percent);
        }
        this.maxEjectionPercent = percent;
        return this;
    }

    /**
     * Active probes, HAProxy's {@code inter}/{@code rise}/{@code fall}: a probe every
     * {@code interval}; {@code fall} failures in a row take an upstream down, {@code rise} successes
     * in a row bring it back. With probes, a passively ejected upstream also needs {@code rise}
     * successful probes to come back.
     *
     * @param interval time between probes of one upstream
     * @param riseCount 1 to 100
     * @param fallCount 1 to 100
     * @return this builder
     */
    public UpstreamGroupBuilder probes(final Duration interval, final int riseCount, final int fallCount)
    {
        this.probeInterval = positive(interval, "probe interval");
        if (riseCount < 1 || riseCount > 100 || fallCount < 1 || fallCount > 100)
        {
            throw new IllegalArgumentException("rise and fall must be 1 to 100, were " + riseCount + " and " + fallCount);
        }
        this.rise = riseCount;
        this.fall = fallCount;
        return this;
    }

    /**
     * @param state an upstream's probe state when it joins (HAProxy's {@code init-state}); default {@link ProbeInitialState#UP}
     * @return this builder
     */
    public UpstreamGroupBuilder probeInitialState(final ProbeInitialState state)
    {
        this.probeInitialState = Objects.requireNonNull(state, "state");
        return this;
    }

    /**
     * @param window how long a re-admitted upstream's weight takes to ramp from almost 0 to full;
     *               zero (the default) for no ramp. Upstreams may override it.
     * @return this builder
     */
    public UpstreamGroupBuilder slowStart(final Duration window)
    {
        Objects.requireNonNull(window, "slowStart");
        if (window.isNegative())
        {
            throw new IllegalArgumentException("slow-start cannot be negative, was " + window);
        }
        this.slowStart = window;
        return this;
    }

    /**
     * @param period a latency average is halved for each such period without a new sample, so an
     *               upstream shunned for being slow is tried again
     * @return this builder
     */
    public UpstreamGroupBuilder latencyDecay(final Duration period)
    {
        this.latencyDecay = positive(period, "latency decay");
        return this;
    }

    /**
     * @param view whose counts policies compare: all workers' (default) or the picking worker's
     * @return this builder
     */
    public UpstreamGroupBuilder statsView(final StatsView view)
    {
        this.statsView = Objects.requireNonNull(view, "view");
        return this;
    }

    /**
     * @param upstreams initial upstreams, added in order
     * @return this builder
     */
    public UpstreamGroupBuilder add(final UpstreamSpec... upstreams)
    {
        for (final UpstreamSpec spec : upstreams)
        {
            specs.add(Objects.requireNonNull(spec, "add(...) contains null"));
        }
        return this;
    }

    /**
     * @param upstreams initial upstreams, added in order
     * @return this builder
     */
    public UpstreamGroupBuilder add(final List<UpstreamSpec> upstreams)
    {
        return add(upstreams.toArray(new UpstreamSpec[0]));
    }

    /**
     * @return the group (it may be empty; upstreams can be added later)
     * @throws IllegalArgumentException if two initial upstreams share a name
     */
    public UpstreamGroup build()
    {
        final Set<String> names = new HashSet<>();
        for (final UpstreamSpec spec : specs)
        {
            if (!names.add(spec.name()))
            {
                throw new IllegalArgumentException("group '" + name + "': " + spec.name() + " is added twice");
            }
        }
        final boolean probes = probeInterval != null;
        final GroupConfig config = new GroupConfig(name, workers, clock, maxFails, failTimeout.toNanos(),
            maxEjection.toNanos(), maxEjectionPercent, slowStart.toNanos(), latencyDecay.toNanos(), statsView, probes,
            probes ? probeInterval.toNanos() : 0, rise, fall, probeInitialState);
        return new UpstreamGroup(config, specs);
    }

    private static Duration positive(final Duration d, final String what)
    {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero())
        {
            throw new IllegalArgumentException(what + " must be positive, was " + d);
        }
        return d;
    }
}
