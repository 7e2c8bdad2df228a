package io.millrace.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Where each field line of a request or response head lies in the parser's head array: four ints a field, no
 * objects, so that parsing a request allocates no per-field garbage. Strings are made on demand.
 */
final class HeaderFields
{
    private static final int INTS_PER_FIELD = 4;

    /** nameStart, nameEnd, valueStart, valueEnd for each field. */
    private int[] offsets = new int[32 * INTS_PER_FIELD];
    private int count;

    void clear()
    {
        count = 0;
    }

    int count()
    {
        return count;
    }

    /**
     * @return the new field's index
     */
    int add(final int nameStart, final int nameEnd, final int valueStart, final int valueEnd)
    {
        final int at = count * INTS_PER_FIELD;
        if (at == offsets.length)
        {
            // Bounded by the head limit: a field line takes at least two bytes and its CRLF.
            offsets = Arrays.copyOf(offsets, offsets.length * 2);
        }
        offsets[at] = nameStart;
        offsets[at + 1] = nameEnd;
        offsets[at + 2] = valueStart;
        offsets[at + 3] = valueEnd;
        return count++;
    }

    /**
     * @return the index of the first field named {@code name} (ASCII case ignored), or -1
     */
    int find(final byte[] head, final String name)
    {
        for (int i = 0; i < count; i++)
        {
            final int at = i * INTS_PER_FIELD;
            if (HttpSyntax.equalsIgnoreCase(head, offsets[at], offsets[at + 1], name))
            {
                return i;
            }
        }
        return -1;
    }

    int nameStart(final int index)
    {
        return offsets[checked(index) * INTS_PER_FIELD];
    }

    int nameEnd(final int index)
    {
        return offsets[checked(index) * INTS_PER_FIELD + 1];
    }

    /** @return whether field {@code index} is named {@code name} (ASCII case ignored) */
    boolean is(final byte[] head, final int index, final String name)
    {
        final int at = checked(index) * INTS_PER_FIELD;
        return HttpSyntax.equalsIgnoreCase(head, offsets[at], offsets[at + 1], name);
    }

    int valueStart(final int index)
    {
        return offsets[checked(index) * INTS_PER_FIELD + 2];
    }

    int valueEnd(final int index)
    {
        return offsets[checked(index) * INTS_PER_FIELD + 3];
    }

    String name(final byte[] head, final int index)
    {
        final int at = checked(index) * INTS_PER_FIELD;
        return new String(head, offsets[at], offsets[at + 1] - offsets[at], StandardCharsets.ISO_8859_1);
    }

    /** Field values may carry obs-text; ISO-8859-1 keeps each byte as one char, losslessly. */
    String value(final byte[] head, final int index)
    {
        final int at = checked(index) * INTS_PER_FIELD;
        return new String(head, offsets[at + 2], offsets[at + 3] - offsets[at + 2], StandardCharsets.ISO_8859_1);
    }

    private int checked(final int index)
    {
        if (index < 0 || index >= count)
        {
            throw new IndexOutOfBoundsException("field " + index + " of " + count);
        }
        return index;
    }
}
