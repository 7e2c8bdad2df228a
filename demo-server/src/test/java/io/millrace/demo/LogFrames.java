package io.millrace.demo;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Test helper: parses a streamed range of framed records as docs/log.md specifies them, on its
 * own (not with the framework's codec): every integer big-endian, a 16-byte header
 * {@code length u32 | crc u32 | offset u64}, then the payload; the CRC-32C covers bytes 0-3, 8-15
 * and the payload. Fails on a torn or corrupt record, or an offset out of sequence.
 */
final class LogFrames
{
    /** One record of a stream. */
    record Frame(long offset, byte[] payload)
    {
    }

    private LogFrames()
    {
    }

    /**
     * @param body  the response body
     * @param first the offset the stream must start at
     * @return the records, whose offsets run densely from {@code first}
     * @throws AssertionError naming the record and what is wrong
     */
    static List<Frame> parse(final byte[] body, final long first)
    {
        final ByteBuffer b = ByteBuffer.wrap(body);
        final List<Frame> frames = new ArrayList<>();
        long expected = first;
        while (b.hasRemaining())
        {
            if (b.remaining() < 16)
            {
                throw new AssertionError("torn header at byte " + b.position() + " of a " + body.length + "-byte stream");
            }
            final int at = b.position();
            final int length = b.getInt(at);
            final int crc = b.getInt(at + 4);
            final long offset = b.getLong(at + 8);
            if (length < 0 || at + 16L + length > body.length)
            {
                throw new AssertionError("torn record at byte " + at + ": length " + length + ", stream of " + body.length);
            }
            final CRC32C c = new CRC32C();
            c.update(body, at, 4);
            c.update(body, at + 8, 8);
            c.update(body, at + 16, length);
            if ((int)c.getValue() != crc)
            {
                throw new AssertionError("CRC-32C mismatch in the record at byte " + at + " (offset field " + offset + ")");
            }
            if (offset != expected)
            {
                throw new AssertionError("offset " + offset + " where " + expected + " belongs (byte " + at + ")");
            }
            final byte[] payload = new byte[length];
            b.position(at + 16);
            b.get(payload);
            frames.add(new Frame(offset, payload));
            expected++;
        }
        return frames;
    }

    /**
     * Reads a whole topic from {@code from} with streamed ranges of at most {@code maxBytes},
     * following {@code Log-Next-Offset} until a range comes back empty, checking every record.
     *
     * @return the records from {@code from} to the end
     */
    static List<Frame> readTopic(final DemoClient client, final String topic, final long from, final long maxBytes)
        throws java.io.IOException
    {
        final List<Frame> all = new ArrayList<>();
        long next = from;
        for (int round = 0; round < 1_000_000; round++)
        {
            final RawHttp.Response r = client.get("/log/" + topic + "?from=" + next + "&max-bytes=" + maxBytes);
            if (r.status() != 200)
            {
                throw new AssertionError("GET /log/" + topic + "?from=" + next + " answered " + r.status() + ": " + r.text());
            }
            final List<Frame> frames = parse(r.body(), next);
            final long continueAt = Long.parseLong(r.header("Log-Next-Offset"));
            if (continueAt != next + frames.size())
            {
                throw new AssertionError("Log-Next-Offset " + continueAt + " after " + frames.size() + " records from " + next);
            }
            if (frames.isEmpty())
            {
                return all;
            }
            all.addAll(frames);
            next = continueAt;
        }
        throw new AssertionError("the stream of " + topic + " did not end");
    }
}
