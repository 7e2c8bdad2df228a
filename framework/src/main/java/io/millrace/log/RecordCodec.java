package io.millrace.log;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Encodes and checks the framing of one record. The on-disk layout (big-endian, as
 * {@code docs/log.md} shows in a table):
 *
 * <pre>
 *   0        4        8                16
 *   +--------+--------+----------------+--------------------+
 *   | length | crc32c |     offset     | payload (length B) |
 *   |  u32   |  u32   |      u64       |                    |
 *   +--------+--------+----------------+--------------------+
 *   crc32c = CRC-32C over (length, offset, payload), i.e. every byte of the record but the CRC.
 * </pre>
 *
 * <p>Why this order: the length comes first so that a reader knows how many bytes the record spans
 * before it can check anything, and can tell a torn record (the file ends before {@code 16 + length})
 * from a damaged one. Why the CRC covers the length: a flipped length bit is then caught by the CRC
 * rather than only by chance. Why it covers the offset: a record is self-verifying wherever it
 * travels (a streamed range, a copied file), and an intact record found at the wrong place (stale
 * bytes from an earlier life of the file) is told apart from a damaged one: {@link RecordStatus#BAD_OFFSET}.
 *
 * <p>Threading: an instance holds a {@link CRC32C} and scratch state, so it belongs to one thread;
 * nothing is allocated per record.
 */
public final class RecordCodec
{
    /** Bytes before the payload. */
    public static final int HEADER_BYTES = 16;
    static final int LENGTH_AT = 0;
    static final int CRC_AT = 4;
    static final int OFFSET_AT = 8;

    private final CRC32C crc = new CRC32C();
    private final ByteBuffer lengthAndOffset = ByteBuffer.allocate(12);
    private final int maxRecordBytes;

    /** @param maxRecordBytes the largest payload accepted; a longer length field is {@link RecordStatus#BAD_LENGTH} */
    public RecordCodec(final int maxRecordBytes)
    {
        if (maxRecordBytes < 0 || maxRecordBytes > Integer.MAX_VALUE - HEADER_BYTES)
        {
            throw new IllegalArgumentException("maxRecordBytes must be in [0, " + (Integer.MAX_VALUE - HEADER_BYTES)
                + "], was " + maxRecordBytes);
        }
        this.maxRecordBytes = maxRecordBytes;
    }

    /** @return the largest payload this codec accepts */
    public int maxRecordBytes()
    {
        return maxRecordBytes;
    }

    /**
     * CRC-32C of a record: over its length, its offset and the payload's remaining bytes. The
     * payload's position is left where it was.
     */
    public int crc(final int length, final long offset, final ByteBuffer payload)
    {
        crc.reset();
        lengthAndOffset.clear();
        lengthAndOffset.putInt(length).putLong(offset).flip();
        crc.update(lengthAndOffset);
        final int at = payload.position();
        crc.update(payload);
        payload.position(at);
        return (int) crc.getValue();
    }

    /**
     * Writes a record's 16-byte header at {@code dst}'s position (advancing it); the payload goes
     * separately (a gathering write). The payload is not moved.
     *
     * @throws IllegalArgumentException if the payload exceeds the maximum record size
     */
    public void encodeHeader(final ByteBuffer dst, final long offset, final ByteBuffer payload)
    {
        final int length = checkedLength(payload);
        dst.putInt(length).putInt(crc(length, offset, payload)).putLong(offset);
    }

    /**
     * Writes a whole record (header and payload) at {@code dst}'s position, advancing it. The
     * payload's position is not moved.
     *
     * @throws IllegalArgumentException if the payload exceeds the maximum record size
     * @throws java.nio.BufferOverflowException if {@code dst} has less than {@code 16 + length} bytes left
     */
    public void encode(final ByteBuffer dst, final long offset, final ByteBuffer payload)
    {
        final int length = checkedLength(payload);
        if (dst.remaining() < HEADER_BYTES + length)
        {
            throw new java.nio.BufferOverflowException();
        }
        encodeHeader(dst, offset, payload);
        dst.put(dst.position(), payload, payload.position(), length);
        dst.position(dst.position() + length);
    }

    private int checkedLength(final ByteBuffer payload)
    {
        final int length = payload.remaining();
        if (length > maxRecordBytes)
        {
            throw new IllegalArgumentException("a record of " + length + " bytes exceeds the maximum record size of "
                + maxRecordBytes + " bytes; split it, or raise LogOptions.maxRecordBytes");
        }
        return length;
    }

    /**
     * Checks the record that starts at absolute index {@code at} of {@code src} (bytes up to
     * {@code src.limit()} are available; more may exist beyond). Nothing is moved.
     *
     * @param expectedOffset the offset the record must carry (offsets are dense)
     */
    public RecordStatus check(final ByteBuffer src, final int at, final long expectedOffset)
    {
        final int available = src.limit() - at;
        if (available < HEADER_BYTES)
        {
            return RecordStatus.TORN;
        }
        final int length = src.getInt(at + LENGTH_AT);
        if (length < 0 || length > maxRecordBytes)
        {
            return RecordStatus.BAD_LENGTH;
        }
        if (available - HEADER_BYTES < length)
        {
            return RecordStatus.TORN;
        }
        final long offset = src.getLong(at + OFFSET_AT);
        // Narrow src to the payload instead of slicing it: no allocation per record checked.
        final int position = src.position();
        final int limit = src.limit();
        src.limit(at + HEADER_BYTES + length).position(at + HEADER_BYTES);
        final int computed = crc(length, offset, src);
        src.limit(limit).position(position);
        if (computed != src.getInt(at + CRC_AT))
        {
            return RecordStatus.BAD_CRC;
        }
        return offset == expectedOffset ? RecordStatus.OK : RecordStatus.BAD_OFFSET;
    }

    /** @return the payload length of the header at absolute index {@code at} (valid after {@link RecordStatus#OK}) */
    public static int length(final ByteBuffer src, final int at)
    {
        return src.getInt(at + LENGTH_AT);
    }

    /** @return the offset field of the header at absolute index {@code at} */
    public static long offset(final ByteBuffer src, final int at)
    {
        return src.getLong(at + OFFSET_AT);
    }
}
