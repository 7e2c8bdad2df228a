package io.millrace.http;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A reusable {@link CharSequence} over bytes of a buffer, one char per byte (ISO-8859-1), so that
 * a path or a field value in a request head can be handed to code that takes a CharSequence
 * without copying it into a String. Set it again for the next request; it keeps no bytes of its own.
 *
 * <p>The bytes are read when a char is asked for, so they must not change while the view is in
 * use. Not thread-safe: one per worker (or per caller), like the buffer it looks at.
 * {@link #subSequence} and {@link #toString()} allocate; {@link #length()} and {@link #charAt} do not.
 */
public final class AsciiView implements CharSequence
{
    private static final byte[] EMPTY = new byte[0];

    private byte[] bytes = EMPTY;
    private int offset;
    private int length;

    /**
     * Points the view at {@code length} bytes of {@code bytes} from {@code offset}.
     *
     * @return this view
     * @throws IndexOutOfBoundsException if the range is outside the array
     */
    public AsciiView set(final byte[] bytes, final int offset, final int length)
    {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        this.bytes = bytes;
        this.offset = offset;
        this.length = length;
        return this;
    }

    @Override
    public int length()
    {
        return length;
    }

    @Override
    public char charAt(final int index)
    {
        Objects.checkIndex(index, length);
        return (char)(bytes[offset + index] & 0xFF);
    }

    @Override
    public CharSequence subSequence(final int start, final int end)
    {
        Objects.checkFromToIndex(start, end, length);
        return new String(bytes, offset + start, end - start, StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString()
    {
        return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
    }
}
