package io.millrace.balance;

import java.util.Arrays;

/**
 * The upstreams one request has already tried, so that a retry goes to the next upstream
 * (nginx's {@code tried} bitmap, Ribbon's {@code MaxAutoRetriesNextServer}). {@link Balancer#pick}
 * skips them and adds the one it picks. Keep one per request context and {@link #clear()} it for
 * the next request: it allocates only when a request tries more upstreams than its capacity.
 *
 * <p>Threading: owned by the thread carrying the request.
 */
public final class Tried
{
    private Upstream[] items;
    private int size;

    /** A set with room for 4 upstreams before it grows. */
    public Tried()
    {
        this(4);
    }

    /**
     * @param capacity upstreams held before the set grows, at least 1
     */
    public Tried(final int capacity)
    {
        if (capacity < 1)
        {
            throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        }
        this.items = new Upstream[capacity];
    }

    /** Adds {@code upstream} unless it is there already. */
    public void add(final Upstream upstream)
    {
        if (contains(upstream))
        {
            return;
        }
        if (size == items.length)
        {
            items = Arrays.copyOf(items, size * 2);
        }
        items[size++] = upstream;
    }

    /** @return true if {@code upstream} was tried (compared by identity) */
    public boolean contains(final Upstream upstream)
    {
        for (int i = 0; i < size; i++)
        {
            if (items[i] == upstream)
            {
                return true;
            }
        }
        return false;
    }

    /** @return how many were tried */
    public int size()
    {
        return size;
    }

    /** @return the last one added, or null */
    public Upstream last()
    {
        return size == 0 ? null : items[size - 1];
    }

    /** Forgets them all, for the next request. */
    public void clear()
    {
        Arrays.fill(items, 0, size, null);
        size = 0;
    }
}
