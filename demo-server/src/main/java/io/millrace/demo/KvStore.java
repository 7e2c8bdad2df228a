package io.millrace.demo;

import io.millrace.http.HttpExchange;
import io.millrace.memory.BufferDescriptor;

import java.nio.ByteBuffer;
import java.util.HashMap;

/**
 * The key-value store behind {@code /kv/{key}}: one plain {@link HashMap} from key to the record
 * that last stored it. A record is what the store's log holds (see {@link DurableKv}):
 *
 * <pre>
 *   op u8 (1 = put, 2 = delete) | key length u16 | key | value (put only: the rest)
 * </pre>
 *
 * so a PUT allocates one array, which is at once the log record, the map's value and (a slice of
 * it) the map's key; a GET answers with a slice of it and allocates nothing.
 *
 * <p>Bounded: {@link #maxEntries} keys and {@link #maxBytes} bytes, each entry charged its record
 * plus {@link #ENTRY_OVERHEAD_BYTES} ({@link #charge}); {@link DurableKv} refuses a PUT that could
 * pass either (507), counting the PUTs still on their way to the disk as well.
 *
 * <p>Threading: owned by one thread, the owner of the store's log; no lock.
 */
final class KvStore
{
    /** Longest key, in bytes. */
    static final int MAX_KEY_BYTES = 256;
    /**
     * What an entry costs besides its record (the key object, the map's node and slot, the array's
     * header), charged with the record to the byte budget, so that empty values under long keys
     * cannot grow the heap past it.
     */
    static final int ENTRY_OVERHEAD_BYTES = 96;
    static final byte PUT = 1;
    static final byte DELETE = 2;
    /** Bytes before the key: op and key length. */
    static final int HEADER_BYTES = 3;

    private final HashMap<ByteKey, byte[]> map = new HashMap<>();
    private final ByteKey probe = new ByteKey(new byte[MAX_KEY_BYTES], 0, 0);
    private final int maxEntries;
    private final long maxBytes;
    private long bytes;

    KvStore(final int maxEntries, final long maxBytes)
    {
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
    }

    /** @return bytes charged for a stored put record */
    static long charge(final byte[] record)
    {
        return record.length + (long)ENTRY_OVERHEAD_BYTES;
    }

    static int keyLength(final byte[] record)
    {
        return ((record[1] & 0xFF) << 8) | (record[2] & 0xFF);
    }

    static int valueOffset(final byte[] record)
    {
        return HEADER_BYTES + keyLength(record);
    }

    /**
     * @param op a put or a delete
     * @param x  the request: its path remainder is the key (1 to {@link #MAX_KEY_BYTES} bytes), its body the value
     * @return a new record
     */
    static byte[] record(final byte op, final HttpExchange x)
    {
        final int keyLength = x.pathRemainderLength();
        final long valueLength = op == PUT ? x.bodyLength() : 0;
        final byte[] r = new byte[Math.toIntExact(HEADER_BYTES + keyLength + valueLength)];
        r[0] = op;
        r[1] = (byte)(keyLength >>> 8);
        r[2] = (byte)keyLength;
        for (int i = 0; i < keyLength; i++)
        {
            r[HEADER_BYTES + i] = x.pathRemainderByte(i);
        }
        if (valueLength > 0)
        {
            int at = HEADER_BYTES + keyLength;
            for (BufferDescriptor d = x.body().first(); d != null; d = d.next())
            {
                final ByteBuffer view = d.readableBuffer();
                final int n = view.remaining();
                view.get(view.position(), r, at, n);
                at += n;
            }
        }
        return r;
    }

    /**
     * @return why {@code record} is not a well-formed record, or null if it is (for records read back
     *         from the disk: a bad one means the log or snapshot is damaged)
     */
    static String malformed(final byte[] record)
    {
        if (record.length < HEADER_BYTES)
        {
            return "a record of " + record.length + " bytes is shorter than its header";
        }
        final int keyLength = keyLength(record);
        if (record[0] != PUT && record[0] != DELETE)
        {
            return "unknown operation " + record[0];
        }
        if (keyLength < 1 || keyLength > MAX_KEY_BYTES || HEADER_BYTES + keyLength > record.length)
        {
            return "key length " + keyLength + " in a record of " + record.length + " bytes";
        }
        if (record[0] == DELETE && record.length != HEADER_BYTES + keyLength)
        {
            return "a delete record with " + (record.length - HEADER_BYTES - keyLength) + " value bytes";
        }
        return null;
    }

    private ByteKey probe(final HttpExchange x)
    {
        probe.offset = 0;
        probe.length = x.pathRemainder(probe.bytes);
        probe.rehash();
        return probe;
    }

    /**
     * @param x the request, whose path remainder (at most {@link #MAX_KEY_BYTES}) is the key
     * @return the record holding the key's value ({@link #valueOffset} to its end), or null
     */
    byte[] get(final HttpExchange x)
    {
        return map.get(probe(x));
    }

    /**
     * Applies a put or delete record (after it is durable, or when replaying the log).
     *
     * @return 201 (put, new key), 204 (put replaced a value, or delete removed one) or 404 (delete, no such key)
     */
    int apply(final byte[] record)
    {
        final ByteKey key = new ByteKey(record, HEADER_BYTES, keyLength(record));
        // Remove first: HashMap.put keeps the old key object, whose array is the old record.
        final byte[] old = map.remove(key);
        if (old != null)
        {
            bytes -= charge(old);
        }
        if (record[0] == DELETE)
        {
            return old == null ? 404 : 204;
        }
        map.put(key, record);
        bytes += charge(record);
        return old == null ? 201 : 204;
    }

    /** @return bytes charged for the entries stored */
    long bytes()
    {
        return bytes;
    }

    /** @return keys stored */
    int size()
    {
        return map.size();
    }

    long maxBytes()
    {
        return maxBytes;
    }

    int maxEntries()
    {
        return maxEntries;
    }

    /** @return every stored record (records never change once stored, so the copy may be read on any thread) */
    byte[][] records()
    {
        return map.values().toArray(new byte[0][]);
    }
}
