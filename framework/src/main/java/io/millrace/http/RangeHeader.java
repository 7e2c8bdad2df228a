package io.millrace.http;

/**
 * Reads a {@code Range} field value (RFC 9110 section 14.2) for one representation, without
 * allocating. Only one range is served: a value with several ({@code bytes=0-1,5-6}) is ignored,
 * which section 14.2 allows ("a server MAY ignore the Range header field"), and saves building a
 * multipart/byteranges body; so is anything malformed or in another unit, and then the whole
 * representation goes out with 200.
 */
final class RangeHeader
{
    /** Send the whole representation (200): no Range, several ranges, or a malformed one. */
    static final int IGNORE = 0;
    /** Send {@code out[0]} to {@code out[1]}, both inclusive (206). */
    static final int SATISFIABLE = 1;
    /** No byte of the range exists (416). */
    static final int UNSATISFIABLE = 2;

    private RangeHeader()
    {
    }

    /**
     * @param value the field value, or null
     * @param size  the representation's length, positive
     * @param out   receives the first and last byte positions (inclusive) when satisfiable
     * @return {@link #IGNORE}, {@link #SATISFIABLE} or {@link #UNSATISFIABLE}
     */
    static int parse(final CharSequence value, final long size, final long[] out)
    {
        if (value == null)
        {
            return IGNORE;
        }
        final int end = trimEnd(value);
        int i = skipSpaces(value, 0, end);
        // The range unit is case-insensitive (section 14.1); no whitespace around the '='.
        if (end - i < 6 || (value.charAt(i) | 0x20) != 'b' || (value.charAt(i + 1) | 0x20) != 'y' ||
            (value.charAt(i + 2) | 0x20) != 't' || (value.charAt(i + 3) | 0x20) != 'e' || (value.charAt(i + 4) | 0x20) != 's' ||
            value.charAt(i + 5) != '=')
        {
            return IGNORE;
        }
        i += 6;
        final long first;
        final long last;
        if (i < end && value.charAt(i) == '-')
        {
            // A suffix: the last n bytes.
            final int digitsEnd = digitsEnd(value, i + 1, end);
            if (digitsEnd == i + 1 || digitsEnd != end)
            {
                return IGNORE;
            }
            final long suffix = number(value, i + 1, digitsEnd);
            if (suffix == 0)
            {
                return UNSATISFIABLE;
            }
            first = Math.max(0, size - suffix);
            last = size - 1;
        }
        else
        {
            final int firstEnd = digitsEnd(value, i, end);
            if (firstEnd == i || firstEnd >= end || value.charAt(firstEnd) != '-')
            {
                return IGNORE;
            }
            first = number(value, i, firstEnd);
            final int lastEnd = digitsEnd(value, firstEnd + 1, end);
            if (lastEnd != end)
            {
                return IGNORE;
            }
            final long requestedLast = lastEnd == firstEnd + 1 ? Long.MAX_VALUE : number(value, firstEnd + 1, lastEnd);
            if (requestedLast < first)
            {
                // Invalid (section 14.1.1), not unsatisfiable: the whole range-set is ignored.
                return IGNORE;
            }
            if (first >= size)
            {
                return UNSATISFIABLE;
            }
            last = Math.min(requestedLast, size - 1);
        }
        out[0] = first;
        out[1] = last;
        return SATISFIABLE;
    }

    private static int trimEnd(final CharSequence value)
    {
        int end = value.length();
        while (end > 0 && (value.charAt(end - 1) == ' ' || value.charAt(end - 1) == '\t'))
        {
            end--;
        }
        return end;
    }

    private static int skipSpaces(final CharSequence value, final int from, final int end)
    {
        int i = from;
        while (i < end && (value.charAt(i) == ' ' || value.charAt(i) == '\t'))
        {
            i++;
        }
        return i;
    }

    private static int digitsEnd(final CharSequence value, final int from, final int end)
    {
        int i = from;
        while (i < end && value.charAt(i) >= '0' && value.charAt(i) <= '9')
        {
            i++;
        }
        return i;
    }

    /** @return the digits' value, saturated at Long.MAX_VALUE: a position that large is past any file */
    private static long number(final CharSequence value, final int from, final int to)
    {
        long n = 0;
        for (int i = from; i < to; i++)
        {
            final int d = value.charAt(i) - '0';
            if (n > (Long.MAX_VALUE - d) / 10)
            {
                return Long.MAX_VALUE;
            }
            n = n * 10 + d;
        }
        return n;
    }
}
