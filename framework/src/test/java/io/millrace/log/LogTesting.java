package io.millrace.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shared helpers of the log tests: deterministic payloads, small options, file surgery. */
final class LogTesting
{
    private LogTesting()
    {
    }

    /** Payload of record {@code i}: 0 to 40 bytes, a function of {@code i} only. */
    static byte[] payload(final long i)
    {
        final Random r = new Random(i * 31 + 7);
        final byte[] b = new byte[(int) (i % 41)];
        r.nextBytes(b);
        return b;
    }

    /** Small segments and a dense index, so that tests roll and index a lot. */
    static LogOptions small()
    {
        return LogOptions.defaults().withSegmentBytes(1024).withIndexIntervalBytes(64).withMaxIndexBytes(4096)
            .withMaxRecordBytes(1024);
    }

    static void appendRecords(final PartitionLog log, final int n) throws IOException
    {
        for (int i = 0; i < n; i++)
        {
            final long expected = log.nextOffset();
            assertEquals(expected, log.append(ByteBuffer.wrap(payload(expected))));
        }
    }

    /** Every offset from start to next reads back its own payload. */
    static void assertAllReadable(final PartitionLog log) throws IOException
    {
        for (long o = log.startOffset(); o < log.nextOffset(); o++)
        {
            assertArrayEquals(payload(o), log.read(o), "offset " + o);
        }
    }

    static Path segmentFile(final Path dir, final long base)
    {
        return dir.resolve(Segment.name(base) + Segment.LOG_SUFFIX);
    }

    static Path indexFile(final Path dir, final long base)
    {
        return dir.resolve(Segment.name(base) + Segment.INDEX_SUFFIX);
    }

    static long[] bases(final Path dir) throws IOException
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log"))
                .mapToLong(n -> Long.parseLong(n.substring(0, 20))).sorted().toArray();
        }
    }

    static void truncate(final Path file, final long size) throws IOException
    {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            ch.truncate(size);
        }
    }

    static void flipByte(final Path file, final long position, final int xor) throws IOException
    {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            final ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, position);
            b.put(0, (byte) (b.get(0) ^ xor)).rewind();
            ch.write(b, position);
        }
    }

    /** Copies the .log files of {@code from} (no index, no marker) into {@code to}. */
    static void copyLogs(final Path from, final Path to) throws IOException
    {
        Files.createDirectories(to);
        for (final long base : bases(from))
        {
            Files.copy(segmentFile(from, base), segmentFile(to, base));
        }
    }

    /** Start positions of the records of a segment file written with {@link #payload}, plus its end. */
    static long[] recordStarts(final long base, final long count)
    {
        final long[] starts = new long[(int) count + 1];
        for (int i = 0; i < count; i++)
        {
            starts[i + 1] = starts[i] + RecordCodec.HEADER_BYTES + payload(base + i).length;
        }
        return starts;
    }
}
