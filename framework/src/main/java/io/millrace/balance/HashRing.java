package io.millrace.balance;

import java.util.Arrays;

/**
 * A consistent-hash ring over one tier of a {@link Snapshot} (primaries or backups), ketama style:
 * each upstream places {@value #POINTS_PER_WEIGHT} x weight points on a 64-bit circle (nginx's
 * {@code hash ... consistent} uses 160 per weight too), each point a hash of the upstream's name and
 * the point's number; a key goes to the owner of the first point at or after the key's hash. An
 * upstream's points depend on its name and weight only, so adding an upstream takes over only the
 * arcs its own points cut (about 1/N of the keys) and moves no key between the others.
 *
 * <p>A point keeps its hash in its upper 44 bits and its owner (the index within the tier) in the
 * lower 20, so the ring is one sorted {@code long[]}. Immutable; built once per snapshot and tier,
 * shared by every worker.
 */
final class HashRing
{
    static final int POINTS_PER_WEIGHT = 160;
    /** Above this many points the ring is thinned in proportion (only with very large weights). */
    static final int MAX_POINTS = 1 << 20;
    private static final int OWNER_BITS = 20;
    private static final long OWNER_MASK = (1L << OWNER_BITS) - 1;

    private final long[] points;

    HashRing(final Upstream[] members, final Settings[] settings, final int from, final int to)
    {
        long total = 0;
        for (int i = from; i < to; i++)
        {
            total += (long)POINTS_PER_WEIGHT * settings[i].weight;
        }
        final double thin = total > MAX_POINTS ? (double)MAX_POINTS / total : 1.0;
        final long[] made = new long[(int)Math.min(total, MAX_POINTS + (long)(to - from))];
        int n = 0;
        for (int i = from; i < to; i++)
        {
            final long base = KeyHash.ofChars(members[i].name());
            final int count = Math.max(1, (int)(POINTS_PER_WEIGHT * settings[i].weight * thin));
            for (int j = 0; j < count && n < made.length; j++)
            {
                final long h = KeyHash.mix(base + (j + 1) * 0x9E3779B97F4A7C15L);
                made[n++] = (h & ~OWNER_MASK) | (i - from);
            }
        }
        this.points = Arrays.copyOf(made, n);
        Arrays.sort(points);
    }

    int size()
    {
        return points.length;
    }

    /** @return the position of the first point at or after {@code keyHash} on the circle */
    int start(final long keyHash)
    {
        final long key = keyHash & ~OWNER_MASK;
        int lo = 0;
        int hi = points.length;
        while (lo < hi)
        {
            final int mid = (lo + hi) >>> 1;
            if ((points[mid] & ~OWNER_MASK) < key)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo == points.length ? 0 : lo;
    }

    /** @return the tier-relative index of the owner of the point at {@code position} (taken modulo the size) */
    int owner(final int position)
    {
        return (int)(points[position % points.length] & OWNER_MASK);
    }
}
