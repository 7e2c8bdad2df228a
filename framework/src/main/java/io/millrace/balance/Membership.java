package io.millrace.balance;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A group's mutable membership: the upstreams taking requests and those draining, from which
 * each {@link Snapshot} is built.
 *
 * <p>Threading: every method is called with the owning {@link UpstreamGroup}'s lock held; the
 * lists are never seen by pickers, which read only snapshots.
 */
final class Membership
{
    private final UpstreamGroup group;
    private final GroupConfig config;
    private final List<Upstream> active = new ArrayList<>();
    private final List<Upstream> draining = new ArrayList<>();
    private int nextId;
    private long version;

    Membership(final UpstreamGroup group, final GroupConfig config)
    {
        this.group = group;
        this.config = config;
    }

    Snapshot snapshot()
    {
        return new Snapshot(++version, active, draining);
    }

    Upstream add(final UpstreamSpec spec)
    {
        if (find(spec.name()) != null)
        {
            throw new IllegalArgumentException("group '" + config.name + "' already has " + spec.name() +
                ": use update(list) to change its settings");
        }
        checkRoom(active.size() + draining.size() + 1);
        final Upstream u = newUpstream(spec);
        active.add(u);
        return u;
    }

    private Upstream newUpstream(final UpstreamSpec spec)
    {
        return new Upstream(group, config, nextId++, new Settings(spec, config), config.clock.getAsLong());
    }

    private void checkRoom(final int size)
    {
        if (size > UpstreamGroup.MAX_UPSTREAMS)
        {
            throw new IllegalStateException("group '" + config.name + "' can hold at most " + UpstreamGroup.MAX_UPSTREAMS +
                " upstreams (taking requests or draining); remove some first");
        }
    }

    Upstream find(final String name)
    {
        for (final Upstream u : active)
        {
            if (u.name().equals(name))
            {
                return u;
            }
        }
        for (final Upstream u : draining)
        {
            if (u.name().equals(name))
            {
                return u;
            }
        }
        return null;
    }

    boolean remove(final Upstream u)
    {
        if (!active.remove(u) && !draining.remove(u))
        {
            return false;
        }
        u.markRemoved();
        return true;
    }

    boolean drain(final Upstream u)
    {
        if (!active.remove(u))
        {
            return false;
        }
        u.markDraining();
        draining.add(u);
        return true;
    }

    /** Removes {@code u} if it is draining. */
    boolean reap(final Upstream u)
    {
        if (!draining.remove(u))
        {
            return false;
        }
        u.markRemoved();
        return true;
    }

    /**
     * Makes the membership what {@code specs} (unique names, checked by the caller) says.
     *
     * @param nowDraining receives the upstreams this update started draining
     */
    RefreshResult update(final List<UpstreamSpec> specs, final Set<String> names, final List<Upstream> nowDraining)
    {
        final Map<String, Upstream> byName = new HashMap<>();
        for (final Upstream u : active)
        {
            byName.put(u.name(), u);
        }
        for (final Upstream u : draining)
        {
            byName.put(u.name(), u);
        }
        int added = 0;
        int changed = 0;
        int unchanged = 0;
        final List<Upstream> next = new ArrayList<>();
        for (final UpstreamSpec spec : specs)
        {
            final Upstream u = byName.get(spec.name());
            if (u == null)
            {
                next.add(null);
                added++;
                continue;
            }
            if (draining.contains(u) || !u.spec().equals(spec))
            {
                changed++;
            }
            else
            {
                unchanged++;
            }
            next.add(u);
        }
        int stillDraining = 0;
        for (final Upstream u : draining)
        {
            if (!names.contains(u.name()))
            {
                stillDraining++;
            }
        }
        int leaving = 0;
        for (final Upstream u : active)
        {
            if (!names.contains(u.name()))
            {
                leaving++;
            }
        }
        // Checked before anything changes, so a refused update leaves the group as it was.
        checkRoom(next.size() + stillDraining + leaving);
        for (int i = 0; i < next.size(); i++)
        {
            final UpstreamSpec spec = specs.get(i);
            final Upstream u = next.get(i);
            if (u == null)
            {
                next.set(i, newUpstream(spec));
                continue;
            }
            if (draining.remove(u))
            {
                u.undrain();
            }
            if (!u.spec().equals(spec))
            {
                u.settings(new Settings(spec, config));
            }
        }
        for (final Upstream u : active)
        {
            if (!names.contains(u.name()))
            {
                u.markDraining();
                draining.add(u);
                nowDraining.add(u);
            }
        }
        active.clear();
        active.addAll(next);
        return new RefreshResult(added, changed, unchanged, nowDraining.size());
    }
}
