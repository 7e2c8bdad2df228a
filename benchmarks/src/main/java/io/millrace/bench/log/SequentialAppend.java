package io.millrace.bench.log;

import io.millrace.log.LogOptions;
import io.millrace.log.PartitionLog;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Sequential write bandwidth of the log, measured the way {@code dd bs=64k conv=fdatasync} measures
 * the disk's: {@code TOTAL_MIB} of {@code RECORD_BYTES} records appended (gathering writes of
 * {@code BATCH} records, as a group-commit turn writes them) and one force at the end, the whole
 * time counted. Segments of 1 GiB roll (and are forced) as they fill.
 *
 * <p>Usage: {@code java -cp benchmarks.jar io.millrace.bench.log.SequentialAppend RECORD_BYTES TOTAL_MIB BATCH DIR}
 */
public final class SequentialAppend
{
    private SequentialAppend()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int recordBytes = Integer.parseInt(args[0]);
        final long total = Long.parseLong(args[1]) << 20;
        final int batch = Integer.parseInt(args[2]);
        final Path dir = Files.createTempDirectory(Path.of(args[3]), "seq-");
        try
        {
            final ByteBuffer payload = ByteBuffer.allocateDirect(recordBytes);
            final ByteBuffer[] records = new ByteBuffer[batch];
            final long count = total / recordBytes;
            final long start = System.nanoTime();
            try (PartitionLog log = PartitionLog.open(dir, LogOptions.defaults().withMaxRecordBytes(Math.max(1 << 20, recordBytes))))
            {
                for (long done = 0; done < count; done += batch)
                {
                    final int n = (int) Math.min(batch, count - done);
                    for (int i = 0; i < n; i++)
                    {
                        records[i] = payload.duplicate();
                    }
                    log.appendBatch(records, 0, n);
                }
                log.flush();
                final double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf(Locale.ROOT, "log-seq      record=%d batch=%d total=%d MiB in %.3f s, %.1f MB/s (payload)%n",
                    recordBytes, batch, total >> 20, seconds, count * recordBytes / seconds / 1e6);
            }
        }
        finally
        {
            try (Stream<Path> files = Files.walk(dir))
            {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
