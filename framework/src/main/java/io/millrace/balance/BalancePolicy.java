package io.millrace.balance;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A balancing policy, chosen by name, with its few options. Immutable; each worker's
 * {@link Balancer} makes its own instance of the policy from it, owned by that worker's thread (no
 * locks, no allocation per pick).
 *
 * <table>
 * <caption>policies</caption>
 * <tr><th>name</th><th>origin</th><th>picks</th></tr>
 * <tr><td>{@code round-robin}</td><td>nginx default</td><td>smooth weighted round robin</td></tr>
 * <tr><td>{@code ip-hash}</td><td>nginx {@code ip_hash}</td><td>by the client address's first three octets</td></tr>
 * <tr><td>{@code hash}</td><td>nginx {@code hash $key}</td><td>by any key, weighted</td></tr>
 * <tr><td>{@code consistent-hash}</td><td>nginx {@code hash $key consistent} (ketama)</td><td>by any key, on a ring</td></tr>
 * <tr><td>{@code least-conn}</td><td>nginx {@code least_conn}</td><td>fewest in flight per weight</td></tr>
 * <tr><td>{@code least-time}</td><td>nginx {@code least_time}, "fair"</td><td>least (1 + in flight) x average latency per weight</td></tr>
 * <tr><td>{@code random-two}</td><td>nginx {@code random two least_conn}</td><td>the less loaded of two weighted random draws</td></tr>
 * <tr><td>{@code weighted-response-time}</td><td>Ribbon {@code WeightedResponseTimeRule}</td><td>random, weighted by total latency minus own</td></tr>
 * <tr><td>{@code best-available}</td><td>Ribbon {@code BestAvailableRule}</td><td>fewest in flight</td></tr>
 * <tr><td>{@code availability-filtering}</td><td>Ribbon {@code AvailabilityFilteringRule}</td><td>round robin under an active limit</td></tr>
 * <tr><td>{@code zone-avoidance}</td><td>Ribbon {@code ZoneAvoidanceRule}</td><td>round robin outside the worst zone</td></tr>
 * </table>
 *
 * <p>Names are matched ignoring case, and {@code _} stands for {@code -} ({@code least_conn} is
 * {@code least-conn}). See docs/balance.md for each policy's exact rules.
 */
public final class BalancePolicy
{
    /** Smooth weighted round robin. */
    public static final String ROUND_ROBIN = "round-robin";
    /** Hash of the client address. */
    public static final String IP_HASH = "ip-hash";
    /** Hash of any request key. */
    public static final String HASH = "hash";
    /** Ketama-style ring. */
    public static final String CONSISTENT_HASH = "consistent-hash";
    /** Fewest in flight per weight. */
    public static final String LEAST_CONN = "least-conn";
    /** Least expected time. */
    public static final String LEAST_TIME = "least-time";
    /** Power of two choices. */
    public static final String RANDOM_TWO = "random-two";
    /** Ribbon's weighted response time. */
    public static final String WEIGHTED_RESPONSE_TIME = "weighted-response-time";
    /** Ribbon's best available. */
    public static final String BEST_AVAILABLE = "best-available";
    /** Ribbon's availability filtering. */
    public static final String AVAILABILITY_FILTERING = "availability-filtering";
    /** Ribbon's zone avoidance. */
    public static final String ZONE_AVOIDANCE = "zone-avoidance";

    private static final List<String> NAMES = List.of(ROUND_ROBIN, IP_HASH, HASH, CONSISTENT_HASH, LEAST_CONN, LEAST_TIME,
        RANDOM_TWO, WEIGHTED_RESPONSE_TIME, BEST_AVAILABLE, AVAILABILITY_FILTERING, ZONE_AVOIDANCE);

    /** Ribbon's default {@code triggeringLoadPerServerThreshold}. */
    public static final double DEFAULT_ZONE_TRIGGERING_LOAD = 0.2;
    /** Ribbon's default {@code avoidZoneWithBlackoutPercetage}: only a zone with every server tripped. */
    public static final double DEFAULT_ZONE_BLACKOUT_SHARE = 0.99999;

    private final String name;
    private final int activeLimit;
    private final double zoneTriggeringLoad;
    private final double zoneBlackoutShare;
    private final long seed;

    private BalancePolicy(final String name, final int activeLimit, final double zoneTriggeringLoad,
        final double zoneBlackoutShare, final long seed)
    {
        this.name = name;
        this.activeLimit = activeLimit;
        this.zoneTriggeringLoad = zoneTriggeringLoad;
        this.zoneBlackoutShare = zoneBlackoutShare;
        this.seed = seed;
    }

    /**
     * @param name one of {@link #names()}
     * @return the policy with default options
     * @throws IllegalArgumentException for an unknown name, listing the valid ones
     */
    public static BalancePolicy named(final String name)
    {
        Objects.requireNonNull(name, "name");
        final String n = name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        if (!NAMES.contains(n))
        {
            throw new IllegalArgumentException("unknown balancing policy '" + name + "'; valid: " + String.join(", ", NAMES));
        }
        return new BalancePolicy(n, Integer.MAX_VALUE, DEFAULT_ZONE_TRIGGERING_LOAD, DEFAULT_ZONE_BLACKOUT_SHARE,
            0x6A09E667F3BCC909L);
    }

    /** @return every policy name */
    public static List<String> names()
    {
        return NAMES;
    }

    /** @return the policy's name, as in {@link #names()} */
    public String name()
    {
        return name;
    }

    /** @return true if picks need a request key ({@code ip-hash}, {@code hash}, {@code consistent-hash}) */
    public boolean needsKey()
    {
        return name.equals(IP_HASH) || name.equals(HASH) || name.equals(CONSISTENT_HASH);
    }

    /**
     * Ribbon's {@code ActiveConnectionsLimit}: {@code availability-filtering} and
     * {@code zone-avoidance} skip an upstream with this many requests in flight or more.
     *
     * @param limit at least 1; default no limit
     * @return a copy with this limit
     */
    public BalancePolicy activeLimit(final int limit)
    {
        if (limit < 1)
        {
            throw new IllegalArgumentException("active limit must be at least 1, was " + limit);
        }
        return new BalancePolicy(name, limit, zoneTriggeringLoad, zoneBlackoutShare, seed);
    }

    /**
     * {@code zone-avoidance}: Ribbon's {@code triggeringLoadPerServerThreshold}. When the busiest
     * zone's in-flight requests per available server reach this (or a zone is blacked out), that
     * zone is avoided.
     *
     * @param load at least 0; default {@value #DEFAULT_ZONE_TRIGGERING_LOAD}
     * @return a copy
     */
    public BalancePolicy zoneTriggeringLoad(final double load)
    {
        if (!(load >= 0))
        {
            throw new IllegalArgumentException("zone triggering load must be 0 or more, was " + load);
        }
        return new BalancePolicy(name, activeLimit, load, zoneBlackoutShare, seed);
    }

    /**
     * {@code zone-avoidance}: Ribbon's {@code avoidZoneWithBlackoutPercetage}, as a share. A zone
     * whose share of tripped (ejected or probe-down) servers reaches this is avoided.
     *
     * @param share more than 0, at most 1; default {@value #DEFAULT_ZONE_BLACKOUT_SHARE}
     * @return a copy
     */
    public BalancePolicy zoneBlackoutShare(final double share)
    {
        if (!(share > 0 && share <= 1))
        {
            throw new IllegalArgumentException("zone blackout share must be more than 0 and at most 1, was " + share);
        }
        return new BalancePolicy(name, activeLimit, zoneTriggeringLoad, share, seed);
    }

    /**
     * @param value seed of the random draws ({@code random-two}, {@code weighted-response-time},
     *              {@code zone-avoidance}); each worker mixes in its index. Default fixed.
     * @return a copy
     */
    public BalancePolicy seed(final long value)
    {
        return new BalancePolicy(name, activeLimit, zoneTriggeringLoad, zoneBlackoutShare, value);
    }

    int activeLimit()
    {
        return activeLimit;
    }

    double zoneTriggeringLoad()
    {
        return zoneTriggeringLoad;
    }

    double zoneBlackoutShare()
    {
        return zoneBlackoutShare;
    }

    long seed()
    {
        return seed;
    }

    /** @return a new per-worker instance of this policy for {@code b} */
    Picker newPicker(final Balancer b)
    {
        return switch (name)
        {
            case ROUND_ROBIN -> new RoundRobinPicker(b);
            case IP_HASH -> new HashPicker(b, true);
            case HASH -> new HashPicker(b, false);
            case CONSISTENT_HASH -> new ConsistentHashPicker(b);
            case LEAST_CONN -> new LeastConnPicker(b, false);
            case LEAST_TIME -> new LeastConnPicker(b, true);
            case RANDOM_TWO -> new RandomTwoPicker(b);
            case WEIGHTED_RESPONSE_TIME -> new WeightedResponseTimePicker(b);
            case BEST_AVAILABLE -> new BestAvailablePicker(b);
            case AVAILABILITY_FILTERING -> new AvailabilityFilteringPicker(b);
            case ZONE_AVOIDANCE -> new ZoneAvoidancePicker(b, activeLimit, zoneTriggeringLoad, zoneBlackoutShare);
            default -> throw new IllegalStateException("no picker for " + name);
        };
    }

    @Override
    public String toString()
    {
        return name;
    }
}
