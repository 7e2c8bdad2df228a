package io.millrace.http;

import java.nio.ByteBuffer;

/**
 * Writes the framing of the chunked transfer coding (RFC 9112 section 7.1) around body bytes the
 * caller sends itself, so that a body relayed part by part (a proxy re-framing what it receives)
 * is never copied to be framed: per part, {@link #chunkHeader} before its bytes and
 * {@link #chunkEnd} after them; at the end, {@link #lastChunk}, which sends no trailer fields.
 * Chunk sizes are lower-case hex without leading zeros and no extensions are written.
 *
 * <p>Allocates nothing; writes nothing if it throws. Stateless; safe from any thread.
 */
public final class ChunkedEncoder
{
    /** The most bytes {@link #chunkHeader} writes: 16 hex digits and CRLF. */
    public static final int MAX_CHUNK_HEADER_BYTES = 18;
    /** Bytes {@link #chunkEnd} writes. */
    public static final int CHUNK_END_BYTES = 2;
    /** Bytes {@link #lastChunk} writes: {@code 0 CRLF CRLF}. */
    public static final int LAST_CHUNK_BYTES = 5;

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private ChunkedEncoder()
    {
    }

    /**
     * Writes a chunk's size line.
     *
     * @param size the chunk's length, above 0 (a chunk of 0 would end the body: use {@link #lastChunk})
     * @return bytes written
     * @throws IllegalArgumentException if {@code size} is not positive or the line does not fit
     */
    public static int chunkHeader(final ByteBuffer dst, final long size)
    {
        if (size <= 0)
        {
            throw new IllegalArgumentException("a chunk has at least one byte, got " + size + "; end the body with lastChunk");
        }
        final int digits = (64 - Long.numberOfLeadingZeros(size) + 3) / 4;
        fits(dst, digits + 2);
        for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
        {
            dst.put(HEX[(int)(size >>> shift) & 0xF]);
        }
        dst.put((byte)'\r').put((byte)'\n');
        return digits + 2;
    }

    /**
     * Writes the CRLF that follows a chunk's data.
     *
     * @return bytes written
     */
    public static int chunkEnd(final ByteBuffer dst)
    {
        fits(dst, CHUNK_END_BYTES);
        dst.put((byte)'\r').put((byte)'\n');
        return CHUNK_END_BYTES;
    }

    /**
     * Writes the last chunk and the empty trailer section: the body ends here.
     *
     * @return bytes written
     */
    public static int lastChunk(final ByteBuffer dst)
    {
        fits(dst, LAST_CHUNK_BYTES);
        dst.put((byte)'0').put((byte)'\r').put((byte)'\n').put((byte)'\r').put((byte)'\n');
        return LAST_CHUNK_BYTES;
    }

    private static void fits(final ByteBuffer dst, final int n)
    {
        if (dst.remaining() < n)
        {
            throw new IllegalArgumentException(n + " bytes of chunked framing do not fit the " + dst.remaining() +
                " bytes left in the buffer");
        }
    }
}
