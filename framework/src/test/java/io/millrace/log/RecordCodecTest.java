package io.millrace.log;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The record framing: round trips, and every kind of damage told apart. */
class RecordCodecTest
{
    private static final int MAX = 4096;
    private final RecordCodec codec = new RecordCodec(MAX);

    private static byte[] random(final Random r, final int n)
    {
        final byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    @Test
    void randomPayloadsIncludingEmptyAndMaximumRoundTrip()
    {
        final Random r = new Random(42);
        final ByteBuffer buf = ByteBuffer.allocateDirect(MAX + RecordCodec.HEADER_BYTES);
        for (int i = 0; i < 500; i++)
        {
            final int n = i == 0 ? 0 : i == 1 ? MAX : r.nextInt(MAX + 1);
            final byte[] payload = random(r, n);
            final long offset = r.nextLong() & Long.MAX_VALUE;
            buf.clear();
            final ByteBuffer src = ByteBuffer.wrap(payload);
            codec.encode(buf, offset, src);
            assertEquals(0, src.position(), "the payload is not consumed by encode");
            assertEquals(RecordCodec.HEADER_BYTES + n, buf.position());
            buf.flip();
            assertEquals(RecordStatus.OK, codec.check(buf, 0, offset));
            assertEquals(n, RecordCodec.length(buf, 0));
            assertEquals(offset, RecordCodec.offset(buf, 0));
            final byte[] back = new byte[n];
            buf.get(RecordCodec.HEADER_BYTES, back);
            assertArrayEquals(payload, back);
        }
    }

    @Test
    void everyCutOfARecordIsTornAndEveryByteFlipIsCorrupt()
    {
        final Random r = new Random(7);
        final ByteBuffer buf = ByteBuffer.allocate(100);
        codec.encode(buf, 5, ByteBuffer.wrap(random(r, 40)));
        buf.flip();
        final int whole = buf.limit();
        for (int cut = 0; cut < whole; cut++)
        {
            buf.limit(cut);
            assertEquals(RecordStatus.TORN, codec.check(buf, 0, 5), "cut at " + cut);
        }
        buf.limit(whole);
        for (int at = 0; at < whole; at++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                buf.put(at, (byte) (buf.get(at) ^ (1 << bit)));
                final RecordStatus s = codec.check(buf, 0, 5);
                // A length flipped upwards within the max runs past the bytes: torn, which recovery also cuts.
                assertTrue(s.corrupt() || (at < 4 && s == RecordStatus.TORN), "flip at " + at + " bit " + bit + ": " + s);
                buf.put(at, (byte) (buf.get(at) ^ (1 << bit)));
            }
        }
        assertEquals(RecordStatus.OK, codec.check(buf, 0, 5));
    }

    @Test
    void lengthBeyondTheMaximumIsBadLengthAndAnIntactRecordElsewhereIsBadOffset()
    {
        final ByteBuffer buf = ByteBuffer.allocate(64);
        codec.encode(buf, 9, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        buf.flip();
        assertEquals(RecordStatus.BAD_OFFSET, codec.check(buf, 0, 10));
        buf.putInt(0, MAX + 1);
        assertEquals(RecordStatus.BAD_LENGTH, codec.check(buf, 0, 9));
        buf.putInt(0, -1);
        assertEquals(RecordStatus.BAD_LENGTH, codec.check(buf, 0, 9));
        final ByteBuffer zeros = ByteBuffer.allocate(32);
        assertEquals(RecordStatus.BAD_CRC, codec.check(zeros, 0, 0), "a zero-filled tail is not a record");
    }

    @Test
    void anOversizedPayloadIsRefusedWithWhatToDo()
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> codec.encode(ByteBuffer.allocate(2 * MAX), 0, ByteBuffer.allocate(MAX + 1)));
        assertTrue(e.getMessage().contains("maxRecordBytes"), e.getMessage());
    }
}
