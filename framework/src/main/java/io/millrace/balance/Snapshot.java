package io.millrace.balance;

import java.util.ArrayList;
import java.util.List;

/**
 * One immutable view of a group's membership: the upstreams that take new requests (primaries
 * first, then backups, each in the order they joined), their settings as of this view, their zones,
 * and the upstreams draining. A change to the group builds a new snapshot and publishes it with a
 * volatile write; a worker reads the current one with a volatile read at each pick and sees either
 * the old view or the new, never a mixture.
 *
 * <p>Threading: immutable, except the consistent-hash rings, made on first use by whichever worker
 * needs one. Two workers may both make a ring; they make equal ones, and a ring is immutable with
 * final fields, so publishing it through a volatile field (or losing one of the two) is safe.
 */
final class Snapshot
{
    final long version;
    final Upstream[] members;
    final Settings[] settings;
    final int primaries;
    final Upstream[] draining;
    /** Zone index of each member, -1 for none. */
    final int[] zoneOf;
    final String[] zones;
    private volatile HashRing primaryRing;
    private volatile HashRing backupRing;

    Snapshot(final long version, final List<Upstream> active, final List<Upstream> draining)
    {
        this.version = version;
        final List<Upstream> ordered = new ArrayList<>(active.size());
        for (final Upstream u : active)
        {
            if (!u.settings().backup)
            {
                ordered.add(u);
            }
        }
        this.primaries = ordered.size();
        for (final Upstream u : active)
        {
            if (u.settings().backup)
            {
                ordered.add(u);
            }
        }
        this.members = ordered.toArray(new Upstream[0]);
        this.settings = new Settings[members.length];
        this.zoneOf = new int[members.length];
        final List<String> zoneNames = new ArrayList<>();
        for (int i = 0; i < members.length; i++)
        {
            settings[i] = members[i].settings();
            final String zone = settings[i].zone;
            if (zone == null)
            {
                zoneOf[i] = -1;
            }
            else
            {
                int z = zoneNames.indexOf(zone);
                if (z < 0)
                {
                    z = zoneNames.size();
                    zoneNames.add(zone);
                }
                zoneOf[i] = z;
            }
        }
        this.zones = zoneNames.toArray(new String[0]);
        this.draining = draining.toArray(new Upstream[0]);
    }

    /** @return the ring of the tier {@code [from, to)}: the primaries' ({@code to == primaries}) or the backups' */
    HashRing ring(final int from, final int to)
    {
        if (to == primaries)
        {
            HashRing r = primaryRing;
            if (r == null)
            {
                r = new HashRing(members, settings, from, to);
                primaryRing = r;
            }
            return r;
        }
        HashRing r = backupRing;
        if (r == null)
        {
            r = new HashRing(members, settings, from, to);
            backupRing = r;
        }
        return r;
    }

    /** @return the member's index, or -1 */
    int indexOf(final Upstream u)
    {
        for (int i = 0; i < members.length; i++)
        {
            if (members[i] == u)
            {
                return i;
            }
        }
        return -1;
    }
}
