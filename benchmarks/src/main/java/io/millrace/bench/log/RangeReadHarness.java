package io.millrace.bench.log;

import io.millrace.log.LogOptions;
import io.millrace.log.LogRange;
import io.millrace.log.PartitionLog;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Streamed reads of a log to a socket, two ways: ranges from {@link PartitionLog#openRange} sent
 * with {@code transferTo} (sendfile: the bytes never enter the JVM), against the same ranges read
 * into a heap buffer and written to the socket. A loopback receiver drains the socket. The log's
 * files are read once first, so both ways read from the page cache.
 *
 * <p>Usage: {@code java -cp benchmarks.jar io.millrace.bench.log.RangeReadHarness RECORD_BYTES TOTAL_MIB RANGE_BYTES ROUNDS DIR}
 */
public final class RangeReadHarness
{
    private RangeReadHarness()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final int recordBytes = Integer.parseInt(args[0]);
        final long total = Long.parseLong(args[1]) << 20;
        final int rangeBytes = Integer.parseInt(args[2]);
        final int rounds = Integer.parseInt(args[3]);
        final Path dir = Files.createTempDirectory(Path.of(args[4]), "reads-");
        try (PartitionLog log = PartitionLog.open(dir, LogOptions.defaults());
             ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0)))
        {
            final ByteBuffer payload = ByteBuffer.allocateDirect(recordBytes);
            final ByteBuffer[] batch = new ByteBuffer[64];
            for (long done = 0; done < total / recordBytes; done += batch.length)
            {
                for (int i = 0; i < batch.length; i++)
                {
                    batch[i] = payload.duplicate();
                }
                log.appendBatch(batch, 0, batch.length);
            }
            log.flush();
            final Thread receiver = Thread.ofPlatform().daemon().start(() ->
            {
                try (SocketChannel in = server.accept())
                {
                    final ByteBuffer sink = ByteBuffer.allocateDirect(1 << 20);
                    while (in.read(sink.clear()) >= 0)
                    {
                        // drain
                    }
                }
                catch (java.io.IOException ignored)
                {
                    // the sender closed
                }
            });
            try (SocketChannel out = SocketChannel.open(server.getLocalAddress()))
            {
                final ByteBuffer heap = ByteBuffer.allocate(rangeBytes + recordBytes + 16);
                sendAll(log, out, true, heap, rangeBytes); // warm-up: page cache and JIT
                sendAll(log, out, false, heap, rangeBytes);
                for (int r = 0; r < rounds; r++)
                {
                    for (final boolean sendfile : new boolean[] {true, false})
                    {
                        final long t0 = System.nanoTime();
                        final long bytes = sendAll(log, out, sendfile, heap, rangeBytes);
                        final double s = (System.nanoTime() - t0) / 1e9;
                        System.out.printf(Locale.ROOT, "reads %-9s round=%d range=%d bytes=%d  %.0f MB/s%n",
                            sendfile ? "sendfile" : "heap-copy", r, rangeBytes, bytes, bytes / s / 1e6);
                    }
                }
            }
            receiver.join(10_000);
        }
        finally
        {
            try (Stream<Path> files = Files.walk(dir))
            {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Sends the whole log as consecutive ranges; returns the bytes sent. */
    private static long sendAll(final PartitionLog log, final SocketChannel out, final boolean sendfile, final ByteBuffer heap,
                                final int rangeBytes)
        throws java.io.IOException
    {
        long sent = 0;
        long from = log.startOffset();
        while (from < log.nextOffset())
        {
            try (LogRange range = log.openRange(from, rangeBytes))
            {
                if (sendfile)
                {
                    long at = range.position();
                    final long end = at + range.length();
                    while (at < end)
                    {
                        at += range.channel().transferTo(at, end - at, out);
                    }
                }
                else
                {
                    heap.clear().limit((int) range.length());
                    long at = range.position();
                    while (heap.hasRemaining())
                    {
                        at += range.channel().read(heap, at);
                    }
                    heap.flip();
                    while (heap.hasRemaining())
                    {
                        out.write(heap);
                    }
                }
                sent += range.length();
                from = range.nextOffset();
            }
        }
        return sent;
    }
}
