package io.millrace.balance;

import java.util.Arrays;

/**
 * {@code zone-avoidance}: Ribbon's {@code ZoneAvoidanceRule}, computed at each pick from the
 * shared health and the in-flight counts.
 *
 * <p>Per zone of the tier: its upstreams, how many are tripped (ejected or down by probes), and its
 * load, the requests in flight on its untripped upstreams per untripped upstream. As Ribbon's
 * {@code getAvailableZones}: a zone whose tripped share reaches the blackout share (default
 * 0.99999: all tripped) is out; of the others, the most loaded zone is out too when its load
 * reaches the triggering load (default 0.2) or when a zone was blacked out (one of equally loaded
 * worst zones, drawn at random in proportion to their sizes), unless it is the last zone left
 * (Ribbon takes that one out too, and then its fallback serves every zone, the blacked-out one
 * included). With one zone, or upstreams without a zone, nothing is filtered by zone.
 *
 * <p>Then round robin over the upstreams of the zones left that are eligible and under the active
 * limit (Ribbon's {@code AvailabilityPredicate}); if there are none, round robin over all eligible
 * ones under the limit (Ribbon's fallback to availability alone). Ribbon's last fallback, any
 * server at all, is not taken: an ejected upstream is never picked.
 */
final class ZoneAvoidancePicker extends Picker
{
    private final int activeLimit;
    private final double triggeringLoad;
    private final double blackoutShare;
    private int[] instances = new int[0];
    private int[] trippedCount = new int[0];
    private long[] active = new long[0];
    private boolean[] allowed = new boolean[0];
    private boolean[] worst = new boolean[0];
    /** True while the rotation should apply the zone filter. */
    private boolean zoneFilter;

    ZoneAvoidancePicker(final Balancer b, final int activeLimit, final double triggeringLoad, final double blackoutShare)
    {
        super(b);
        this.activeLimit = activeLimit;
        this.triggeringLoad = triggeringLoad;
        this.blackoutShare = blackoutShare;
    }

    @Override
    void onSnapshot(final Snapshot old, final Snapshot next)
    {
        super.onSnapshot(old, next);
        final int zones = next.zones.length;
        instances = new int[zones];
        trippedCount = new int[zones];
        active = new long[zones];
        allowed = new boolean[zones];
        worst = new boolean[zones];
    }

    @Override
    int choose(final int from, final int to)
    {
        zoneFilter = availableZones(from, to);
        if (zoneFilter)
        {
            final int i = rotate(from, to);
            if (i >= 0)
            {
                return i;
            }
            zoneFilter = false;
        }
        return rotate(from, to);
    }

    @Override
    boolean accept(final int i)
    {
        if (zoneFilter)
        {
            final int z = b.snap.zoneOf[i];
            if (z >= 0 && !allowed[z])
            {
                return false;
            }
        }
        if (!b.eligible(i))
        {
            return false;
        }
        if (b.inFlight(i) >= activeLimit)
        {
            b.refusedBusy();
            return false;
        }
        return true;
    }

    /** @return true if some zone is to be avoided; {@link #allowed} then says which are not */
    private boolean availableZones(final int from, final int to)
    {
        final int[] zoneOf = b.snap.zoneOf;
        final int zones = instances.length;
        Arrays.fill(instances, 0);
        Arrays.fill(trippedCount, 0);
        Arrays.fill(active, 0);
        for (int i = from; i < to; i++)
        {
            final int z = zoneOf[i];
            if (z < 0)
            {
                continue;
            }
            instances[z]++;
            if (b.tripped(i))
            {
                trippedCount[z]++;
            }
            else
            {
                active[z] += b.inFlight(i);
            }
        }
        int present = 0;
        for (int z = 0; z < zones; z++)
        {
            if (instances[z] > 0)
            {
                present++;
            }
        }
        if (present <= 1)
        {
            return false;
        }
        boolean limited = false;
        double maxLoad = 0;
        int worstInstances = 0;
        for (int z = 0; z < zones; z++)
        {
            allowed[z] = false;
            worst[z] = false;
            if (instances[z] == 0)
            {
                continue;
            }
            final int up = instances[z] - trippedCount[z];
            final double load = up == 0 ? -1 : (double)active[z] / up;
            if ((double)trippedCount[z] / instances[z] >= blackoutShare || load < 0)
            {
                limited = true;
                continue;
            }
            allowed[z] = true;
            if (Math.abs(load - maxLoad) < 0.000001d)
            {
                worst[z] = true;
                worstInstances += instances[z];
            }
            else if (load > maxLoad)
            {
                maxLoad = load;
                Arrays.fill(worst, false);
                worst[z] = true;
                worstInstances = instances[z];
            }
        }
        if (maxLoad < triggeringLoad && !limited)
        {
            return false;
        }
        int left = 0;
        for (int z = 0; z < zones; z++)
        {
            if (allowed[z])
            {
                left++;
            }
        }
        // Unlike Ribbon, never take out the last zone left: Ribbon would, and its fallback would then
        // serve every zone, the blacked-out one included.
        if (worstInstances > 0 && left > 1)
        {
            // Ribbon's randomChooseZone: one of the worst zones, in proportion to its size.
            int point = b.random.nextInt(worstInstances);
            for (int z = 0; z < zones; z++)
            {
                if (worst[z])
                {
                    point -= instances[z];
                    if (point < 0)
                    {
                        allowed[z] = false;
                        break;
                    }
                }
            }
        }
        return true;
    }
}
