package io.millrace.bench.log;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;

/**
 * The disk's sync latency, the physical limit of a force per record: a loop of one write of
 * {@code BYTES} at the end of a file and one {@code fdatasync} ({@code FileChannel.force(false)}),
 * {@code COUNT} times. Prints the median and p99 of one write+force and the forces per second.
 *
 * <p>Usage: {@code java -cp benchmarks.jar io.millrace.bench.log.SyncLoop BYTES COUNT DIR}
 */
public final class SyncLoop
{
    private SyncLoop()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int bytes = Integer.parseInt(args[0]);
        final int count = Integer.parseInt(args[1]);
        final Path file = Files.createTempFile(Path.of(args[2]), "sync-loop-", ".bin");
        final long[] nanos = new long[count];
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            final ByteBuffer block = ByteBuffer.allocateDirect(bytes);
            final long start = System.nanoTime();
            for (int i = 0; i < count; i++)
            {
                final long t0 = System.nanoTime();
                block.clear();
                while (block.hasRemaining())
                {
                    c.write(block);
                }
                c.force(false);
                nanos[i] = System.nanoTime() - t0;
            }
            final double seconds = (System.nanoTime() - start) / 1e9;
            Arrays.sort(nanos);
            System.out.printf(Locale.ROOT, "sync-loop    write=%d+fdatasync count=%d p50=%.1fus p99=%.1fus forces/s=%.0f%n", bytes,
                count, nanos[count / 2] / 1e3, nanos[(int) (count * 0.99)] / 1e3, count / seconds);
        }
        finally
        {
            Files.deleteIfExists(file);
        }
    }
}
