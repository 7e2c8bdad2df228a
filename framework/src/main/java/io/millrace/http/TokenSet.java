package io.millrace.http;

import java.util.Arrays;

/**
 * A set of tokens, compared ignoring ASCII case, that are ranges of one byte array: the field names
 * a request's or response's {@code Connection} fields list, which the proxy's filter drops. Hashed,
 * so that a head of many fields and a Connection list of many names costs the sum of the two, not
 * their product (a hostile client could otherwise make an 8 KiB head cost millions of compares).
 * Reused: {@link #clear} keeps the arrays, which grow with the largest list seen (bounded by the
 * head limit).
 *
 * <p>Threading: one owner at a time, like the head whose bytes it indexes.
 */
final class TokenSet
{
    private byte[] bytes;
    /** start, end of each token. */
    private int[] ranges = new int[2 * 8];
    private int count;
    /** Open addressing, linear probing: token index + 1, or 0 for an empty slot; at most half full. */
    private int[] slots = new int[16];

    /**
     * Empties the set; the tokens added next are ranges of {@code bytes}.
     */
    void clear(final byte[] bytes)
    {
        this.bytes = bytes;
        if (count > 0)
        {
            Arrays.fill(slots, 0);
            count = 0;
        }
    }

    int size()
    {
        return count;
    }

    /** Adds {@code bytes[start, end)} (non-empty), unless an equal token is there. */
    void add(final int start, final int end)
    {
        if (contains(bytes, start, end))
        {
            return;
        }
        if (2 * (count + 1) > slots.length)
        {
            grow();
        }
        if (2 * count + 2 > ranges.length)
        {
            ranges = Arrays.copyOf(ranges, ranges.length * 2);
        }
        ranges[2 * count] = start;
        ranges[2 * count + 1] = end;
        count++;
        insert(count - 1);
    }

    /** @return whether {@code other[start, end)} equals a token of the set, ignoring ASCII case */
    boolean contains(final byte[] other, final int start, final int end)
    {
        if (count == 0)
        {
            return false;
        }
        final int mask = slots.length - 1;
        for (int at = hash(other, start, end) & mask; slots[at] != 0; at = (at + 1) & mask)
        {
            final int t = slots[at] - 1;
            if (sameIgnoringCase(other, start, end, ranges[2 * t], ranges[2 * t + 1]))
            {
                return true;
            }
        }
        return false;
    }

    private void grow()
    {
        slots = new int[slots.length * 2];
        for (int t = 0; t < count; t++)
        {
            insert(t);
        }
    }

    private void insert(final int t)
    {
        final int mask = slots.length - 1;
        int at = hash(bytes, ranges[2 * t], ranges[2 * t + 1]) & mask;
        while (slots[at] != 0)
        {
            at = (at + 1) & mask;
        }
        slots[at] = t + 1;
    }

    private boolean sameIgnoringCase(final byte[] other, final int start, final int end, final int tStart, final int tEnd)
    {
        if (end - start != tEnd - tStart)
        {
            return false;
        }
        for (int i = 0; i < end - start; i++)
        {
            if (lower(other[start + i]) != lower(bytes[tStart + i]))
            {
                return false;
            }
        }
        return true;
    }

    private static int hash(final byte[] b, final int start, final int end)
    {
        int h = 0;
        for (int i = start; i < end; i++)
        {
            h = 31 * h + lower(b[i]);
        }
        // Spread the high bits down, as HashMap does, so that the mask sees them.
        return h ^ (h >>> 16);
    }

    private static int lower(final byte c)
    {
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c & 0xFF;
    }
}
