package io.millrace.demo;

import io.millrace.http.HttpExchange;

import java.util.Arrays;
import java.util.HashMap;

/**
 * The key-value store behind {@code /kv/{key}}: one plain {@link HashMap} per partition. The kv
 * stage is partitioned by key, so each partition is touched only by the worker that owns it: no
 * lock, no concurrent map, and per-key order for free.
 *
 * <p>Keys are the path's bytes, looked up through a reusable probe per partition, so a GET
 * allocates nothing; a PUT allocates its key (if new) and its value.
 *
 * <p>Bounded: at most {@link #maxEntriesPerPartition} keys and an equal share of the byte limit per
 * partition; a PUT beyond either is refused with 507, so a client cannot grow the heap without bound.
 */
final class KvStore
{
    /** Longest key, in bytes. */
    static final int MAX_KEY_BYTES = 256;
    /**
     * What an entry costs besides its key and value bytes (the Key, its array's header, the map's
     * node and slot), charged with the key to the byte budget, so that empty values under long
     * keys cannot grow the heap past it.
     */
    static final int ENTRY_OVERHEAD_BYTES = 96;

    private final HashMap<Key, byte[]>[] partitions;
    private final Key[] probes;
    private final int maxEntriesPerPartition;
    private final long maxBytesPerPartition;
    /** Value bytes held per partition; each slot touched only by the partition's owner. */
    private final long[] bytes;

    /** A key's bytes and hash; a probe's bytes are overwritten for each lookup. */
    private static final class Key
    {
        final byte[] bytes;
        int length;
        int hash;

        Key(final byte[] bytes, final int length)
        {
            this.bytes = bytes;
            this.length = length;
            rehash();
        }

        void rehash()
        {
            int h = 1;
            for (int i = 0; i < length; i++)
            {
                h = 31 * h + bytes[i];
            }
            hash = h;
        }

        @Override
        public int hashCode()
        {
            return hash;
        }

        @Override
        public boolean equals(final Object o)
        {
            return o instanceof Key k && Arrays.equals(bytes, 0, length, k.bytes, 0, k.length);
        }
    }

    @SuppressWarnings("unchecked")
    KvStore(final int partitionCount, final int maxEntriesPerPartition, final long maxBytes)
    {
        this.maxBytesPerPartition = Math.max(1, maxBytes / partitionCount);
        this.bytes = new long[partitionCount];
        this.partitions = new HashMap[partitionCount];
        this.probes = new Key[partitionCount];
        for (int i = 0; i < partitionCount; i++)
        {
            partitions[i] = new HashMap<>();
            probes[i] = new Key(new byte[MAX_KEY_BYTES], 0);
        }
        this.maxEntriesPerPartition = maxEntriesPerPartition;
    }

    /** Loads the exchange's key (the path after {@code /kv/}) into the partition's probe. */
    private static long entryBytes(final Key key)
    {
        return key.length + ENTRY_OVERHEAD_BYTES;
    }

    private Key probe(final int partition, final HttpExchange x)
    {
        final Key k = probes[partition];
        k.length = x.pathRemainder(k.bytes);
        k.rehash();
        return k;
    }

    /**
     * @param partition the caller's partition (only its owner worker calls)
     * @param x         the request, whose path remainder is the key (at most {@link #MAX_KEY_BYTES})
     * @return the value, or null
     */
    byte[] get(final int partition, final HttpExchange x)
    {
        return partitions[partition].get(probe(partition, x));
    }

    /**
     * @return 1 if stored as a new key, 0 if replaced; -1 if the partition is full and the key is new
     */
    int put(final int partition, final HttpExchange x, final byte[] value)
    {
        final HashMap<Key, byte[]> map = partitions[partition];
        final Key probe = probe(partition, x);
        final byte[] old = map.get(probe);
        final long after = bytes[partition] + value.length - (old == null ? -entryBytes(probe) : old.length);
        if (after > maxBytesPerPartition || old == null && map.size() >= maxEntriesPerPartition)
        {
            return -1;
        }
        bytes[partition] = after;
        if (old != null)
        {
            map.replace(probe, value);
            return 0;
        }
        map.put(new Key(Arrays.copyOf(probe.bytes, probe.length), probe.length), value);
        return 1;
    }

    /**
     * @return true if the key was there
     */
    boolean delete(final int partition, final HttpExchange x)
    {
        final Key probe = probe(partition, x);
        final byte[] old = partitions[partition].remove(probe);
        if (old == null)
        {
            return false;
        }
        bytes[partition] -= old.length + entryBytes(probe);
        return true;
    }

    int partitionCount()
    {
        return partitions.length;
    }
}
