package io.millrace.demo;

import java.util.Arrays;

/**
 * A run of bytes as a hash-map key: a slice of an array, hashed once. A lookup fills a reusable
 * probe (its array overwritten each time) so that a hit allocates nothing; a stored key is a slice
 * of an array that never changes.
 */
final class ByteKey
{
    final byte[] bytes;
    int offset;
    int length;
    private int hash;

    ByteKey(final byte[] bytes, final int offset, final int length)
    {
        this.bytes = bytes;
        this.offset = offset;
        this.length = length;
        rehash();
    }

    /** Recomputes the hash after the probe's bytes, offset or length changed. */
    void rehash()
    {
        int h = 1;
        for (int i = offset; i < offset + length; i++)
        {
            h = 31 * h + bytes[i];
        }
        hash = h;
    }

    /** @return a key of its own (a copied array) with the same bytes, for storing */
    ByteKey copy()
    {
        return new ByteKey(Arrays.copyOfRange(bytes, offset, offset + length), 0, length);
    }

    @Override
    public int hashCode()
    {
        return hash;
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof ByteKey k && Arrays.equals(bytes, offset, offset + length, k.bytes, k.offset, k.offset + k.length);
    }
}
