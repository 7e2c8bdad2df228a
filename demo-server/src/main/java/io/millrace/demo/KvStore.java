package io.millrace.demo;

import java.util.HashMap;

/**
 * The key-value store behind {@code /kv/{key}}: one plain {@link HashMap} per partition. The kv
 * stage is partitioned by key, so each partition is touched only by the worker that owns it: no
 * lock, no concurrent map, and per-key order for free.
 *
 * <p>Bounded: at most {@link #maxEntriesPerPartition} keys per partition; a PUT of a new key beyond
 * that is refused with 507, so a client cannot grow the heap without bound.
 */
final class KvStore
{
    private final HashMap<String, byte[]>[] partitions;
    private final int maxEntriesPerPartition;

    @SuppressWarnings("unchecked")
    KvStore(final int partitionCount, final int maxEntriesPerPartition)
    {
        this.partitions = new HashMap[partitionCount];
        for (int i = 0; i < partitionCount; i++)
        {
            partitions[i] = new HashMap<>();
        }
        this.maxEntriesPerPartition = maxEntriesPerPartition;
    }

    /**
     * @param partition the caller's partition (only its owner worker calls)
     * @param key       the key
     * @return the value, or null
     */
    byte[] get(final int partition, final String key)
    {
        return partitions[partition].get(key);
    }

    /**
     * @return true if stored; false if the partition is full and the key is new
     */
    boolean put(final int partition, final String key, final byte[] value)
    {
        final HashMap<String, byte[]> map = partitions[partition];
        if (map.size() >= maxEntriesPerPartition && !map.containsKey(key))
        {
            return false;
        }
        map.put(key, value);
        return true;
    }

    /**
     * @return true if the key was there
     */
    boolean delete(final int partition, final String key)
    {
        return partitions[partition].remove(key) != null;
    }

    int partitionCount()
    {
        return partitions.length;
    }
}
