package io.millrace.http;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A request body's bytes: one array per connection, reused across requests and grown (never past
 * the limit) only when a body is larger than any before it.
 */
final class BodyBuffer
{
    private static final int FIRST_CAPACITY = 1024;

    private final int max;
    private byte[] bytes = new byte[0];
    private int length;

    /**
     * @param max the largest body accepted, in bytes
     */
    BodyBuffer(final int max)
    {
        this.max = max;
    }

    int max()
    {
        return max;
    }

    int length()
    {
        return length;
    }

    byte[] bytes()
    {
        return bytes;
    }

    /**
     * @return bytes that may still be appended before the limit
     */
    long room()
    {
        return (long)max - length;
    }

    void clear()
    {
        length = 0;
    }

    /**
     * Makes room for {@code extra} more bytes. Grows geometrically so that a body that arrives in
     * many small chunks is copied a logarithmic number of times, not once per chunk.
     *
     * @param extra at most {@link #room()}
     */
    void reserve(final long extra)
    {
        final long needed = length + extra;
        if (needed > bytes.length)
        {
            final long doubled = Math.max(FIRST_CAPACITY, 2L * bytes.length);
            bytes = Arrays.copyOf(bytes, (int)Math.max(needed, Math.min(max, doubled)));
        }
    }

    /**
     * Moves {@code n} bytes from {@code src} (which has them) into room already reserved.
     */
    void append(final ByteBuffer src, final int n)
    {
        src.get(bytes, length, n);
        length += n;
    }
}
