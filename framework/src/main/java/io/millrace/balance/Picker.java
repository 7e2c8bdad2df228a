package io.millrace.balance;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * One worker's instance of a policy. {@link #choose} looks at the members {@code [from, to)} of
 * the balancer's current snapshot (one tier: the primaries or the backups), asks the balancer
 * which are eligible, and returns an index or -1.
 *
 * <p>Threading: owned by its balancer's thread. Per-upstream state (smooth round-robin weights) is
 * kept by snapshot position and carried over by identity in {@link #onSnapshot}, the only place a
 * picker allocates.
 */
abstract class Picker
{
    final Balancer b;
    /** Smooth weighted round-robin's current weights, by member index. */
    long[] current = new long[0];
    /** Scratch values by member index, for pickers that look at each candidate twice. */
    long[] scratch = new long[0];
    /** Round-robin cursor of the pickers that rotate. */
    int cursor;
    /** Configured weights summed within each tier, up to and including each member. */
    long[] prefix = new long[0];

    Picker(final Balancer b)
    {
        this.b = b;
    }

    /**
     * The group changed (or this is the first pick). Carries each kept upstream's round-robin
     * weight to its new position.
     *
     * @param old  the previous snapshot, or null
     * @param next the new one
     */
    void onSnapshot(final Snapshot old, final Snapshot next)
    {
        final long[] carried = new long[next.members.length];
        if (old != null && old.members.length > 0)
        {
            final Map<Upstream, Integer> before = new IdentityHashMap<>();
            for (int i = 0; i < old.members.length; i++)
            {
                before.put(old.members[i], i);
            }
            for (int i = 0; i < carried.length; i++)
            {
                final Integer j = before.get(next.members[i]);
                if (j != null && j < current.length)
                {
                    carried[i] = current[j];
                }
            }
        }
        current = carried;
        scratch = new long[next.members.length];
        prefix = new long[next.members.length];
        long sum = 0;
        for (int i = 0; i < prefix.length; i++)
        {
            sum = i == next.primaries ? 0 : sum;
            sum += next.settings[i].weight;
            prefix[i] = sum;
        }
    }

    /** @return the member of {@code [from, to)} whose configured-weight slice holds {@code point} (0 to the tier's total - 1) */
    final int byWeight(final int from, final int to, final long point)
    {
        int lo = from;
        int hi = to - 1;
        while (lo < hi)
        {
            final int mid = (lo + hi) >>> 1;
            if (prefix[mid] > point)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /** @return the tier's total configured weight */
    final long totalWeight(final int to)
    {
        return prefix[to - 1];
    }

    abstract int choose(int from, int to);

    /**
     * nginx's smooth weighted round robin ({@code ngx_http_upstream_get_peer}) over the eligible
     * members of {@code [from, to)}: each adds its weight to its current weight, the largest wins
     * (the first of equals), and the winner gives back the total. Weights {5, 1, 1} give
     * a a b a c a a.
     */
    final int smooth(final int from, final int to)
    {
        long total = 0;
        int best = -1;
        for (int i = from; i < to; i++)
        {
            if (!b.eligible(i))
            {
                continue;
            }
            final long w = b.weight(i);
            current[i] += w;
            total += w;
            if (best < 0 || current[i] > current[best])
            {
                best = i;
            }
        }
        if (best >= 0)
        {
            current[best] -= total;
        }
        return best;
    }

    /** @return the next member from the cursor that {@code accept}s, rotating the cursor past it; -1 if none */
    final int rotate(final int from, final int to)
    {
        final int n = to - from;
        final int start = Math.floorMod(cursor, n);
        for (int k = 0; k < n; k++)
        {
            final int i = from + (start + k) % n;
            if (accept(i))
            {
                cursor = start + k + 1;
                return i;
            }
        }
        return -1;
    }

    /** What {@link #rotate} accepts; eligibility by default. */
    boolean accept(final int i)
    {
        return b.eligible(i);
    }
}
