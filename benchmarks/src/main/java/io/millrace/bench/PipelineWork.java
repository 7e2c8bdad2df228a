package io.millrace.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * The work of {@link PipelineBenchmark}, the same code in every variant: parse the request line,
 * look the key up in a partitioned data set (and count the hit, so the data set is written as well
 * as read), make a blocking call of about {@value #BLOCKING_NANOS} ns, write the reply.
 *
 * <p>Threading: {@link #parse} and {@link #reply} touch only their request. {@link #lookup} writes
 * the data set: the caller must own the partition (Millrace: the partition's worker; the thread
 * pool: its single lookup thread; virtual threads: the lock around the data set).
 */
final class PipelineWork
{
    /** Partitions of the data set, and of the Millrace lookup stage. */
    static final int PARTITIONS = 64;
    /** Entries per partition. */
    static final int PER_PARTITION = 1024;
    /** Distinct keys: the data set's size, 64 Ki entries of 8 bytes (512 KiB). */
    static final int KEYS = PARTITIONS * PER_PARTITION;
    /** The blocking call: a fast database's round trip. */
    static final long BLOCKING_NANOS = 50_000;

    private static final int KEY_START = "GET /item/".length();

    /** data[partition][slot]. */
    private final long[][] data = new long[PARTITIONS][PER_PARTITION];

    PipelineWork()
    {
        for (int p = 0; p < PARTITIONS; p++)
        {
            for (int i = 0; i < PER_PARTITION; i++)
            {
                data[p][i] = (long)p * PER_PARTITION + i;
            }
        }
    }

    /** Inline stage: the key from {@code GET /item/<key> HTTP/1.1}. */
    static void parse(final PipelineRequest r)
    {
        final byte[] line = r.line;
        int key = 0;
        for (int i = KEY_START; i < line.length && line[i] != ' '; i++)
        {
            final int digit = line[i] - '0';
            if (digit < 0 || digit > 9)
            {
                throw new IllegalArgumentException("not a key at byte " + i);
            }
            key = key * 10 + digit;
        }
        r.key = key;
    }

    /**
     * The partition of a key: Millrace's own mix of a partitioned stage's key, so every variant puts
     * each key in the same partition.
     */
    static int partitionOf(final int key)
    {
        int h = key;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        return h & (PARTITIONS - 1);
    }

    /** Partitioned stage: read the key's entry and count the hit; the caller owns the partition. */
    void lookup(final PipelineRequest r, final int partition)
    {
        final long[] entries = data[partition];
        final int slot = (r.key / PARTITIONS) & (PER_PARTITION - 1);
        final long value = entries[slot];
        entries[slot] = value + 1;
        r.value = value;
    }

    /**
     * Blocking stage: the database call. Parks until {@value #BLOCKING_NANOS} ns have passed: one
     * {@code parkNanos} alone can return at once, on a permit an earlier {@code unpark} of the thread
     * left behind (a queue's signal, say), and then one variant would skip the wait another makes.
     */
    static void call()
    {
        final long deadline = System.nanoTime() + BLOCKING_NANOS;
        for (long left = BLOCKING_NANOS; left > 0; left = deadline - System.nanoTime())
        {
            LockSupport.parkNanos(left);
        }
    }

    /** Inline stage: {@code 200 <value>} into the request's reply bytes. */
    static void reply(final PipelineRequest r)
    {
        final byte[] out = r.reply;
        out[0] = '2';
        out[1] = '0';
        out[2] = '0';
        out[3] = ' ';
        long v = r.value;
        int digits = 1;
        for (long t = v / 10; t != 0; t /= 10)
        {
            digits++;
        }
        for (int i = 4 + digits - 1; i >= 4; i--)
        {
            out[i] = (byte)('0' + v % 10);
            v /= 10;
        }
        r.replyLength = 4 + digits;
    }
}
