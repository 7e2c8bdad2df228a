package io.millrace.demo;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;

/**
 * The /kv store's snapshot file, {@code <data dir>/kv.snapshot}: every entry of the store and the
 * offset of the store's log it covers (the store is the log's records below that offset, applied in
 * order). Every integer big-endian:
 *
 * <pre>
 *   magic u64 "MRKVSNAP" | version u32 (1) | covered offset u64 | entries u64
 *   entries times: record length u32 | record (a {@link KvStore} put record)
 *   CRC-32C u32 of every byte before it
 * </pre>
 *
 * Written atomically: a temporary file, forced, renamed over the old snapshot, then the directory
 * forced, so that a crash leaves either the old snapshot or the new one, whole. A damaged snapshot
 * (bad magic, CRC, or length) stops the store from loading rather than lose entries silently.
 *
 * <p>Threading: stateless; {@link #write} runs on the snapshot thread, {@link #read} at start.
 */
final class KvSnapshot
{
    static final String FILE = "kv.snapshot";
    static final String TEMP = "kv.snapshot.tmp";
    private static final long MAGIC = 0x4d524b56534e4150L; // "MRKVSNAP"
    private static final int VERSION = 1;

    /** A snapshot as read: the log offset it covers and its records. */
    record Loaded(long offset, List<byte[]> records)
    {
    }

    private KvSnapshot()
    {
    }

    /**
     * Writes a snapshot of {@code records} covering the log below {@code offset}, atomically.
     *
     * @param dataDir the data directory
     * @param records the store's put records (never changed once stored)
     * @param offset  every log record below it is in the snapshot, none at or above it
     */
    static void write(final Path dataDir, final byte[][] records, final long offset) throws IOException
    {
        final Path temp = dataDir.resolve(TEMP);
        final CRC32C crc = new CRC32C();
        final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE))
        {
            buffer.putLong(MAGIC).putInt(VERSION).putLong(offset).putLong(records.length);
            for (final byte[] r : records)
            {
                if (buffer.remaining() < 4)
                {
                    drain(buffer, crc, out);
                }
                buffer.putInt(r.length);
                if (r.length > buffer.remaining())
                {
                    drain(buffer, crc, out);
                }
                if (r.length > buffer.remaining())
                {
                    crc.update(r);
                    writeFully(out, ByteBuffer.wrap(r));
                }
                else
                {
                    buffer.put(r);
                }
            }
            drain(buffer, crc, out);
            buffer.putInt((int)crc.getValue()).flip();
            writeFully(out, buffer);
            out.force(true);
        }
        Files.move(temp, dataDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(dataDir, StandardOpenOption.READ))
        {
            dir.force(true); // the rename itself survives a power loss
        }
    }

    private static void drain(final ByteBuffer buffer, final CRC32C crc, final FileChannel out) throws IOException
    {
        buffer.flip();
        crc.update(buffer.duplicate());
        writeFully(out, buffer);
        buffer.clear();
    }

    private static void writeFully(final FileChannel out, final ByteBuffer b) throws IOException
    {
        while (b.hasRemaining())
        {
            out.write(b);
        }
    }

    /**
     * @param dataDir        the data directory
     * @param maxRecordBytes the largest record the store's log takes: a longer length is damage
     * @return the snapshot, or null if there is none
     * @throws IOException naming the file and what is wrong if it is damaged
     */
    static Loaded read(final Path dataDir, final int maxRecordBytes) throws IOException
    {
        final Path file = dataDir.resolve(FILE);
        final CRC32C crc = new CRC32C();
        final InputStream raw;
        try
        {
            raw = Files.newInputStream(file);
        }
        catch (final NoSuchFileException none)
        {
            return null;
        }
        try (DataInputStream in = new DataInputStream(new CheckedInputStream(new BufferedInputStream(raw, 64 * 1024), crc)))
        {
            if (in.readLong() != MAGIC)
            {
                throw damaged(file, "it does not start with the snapshot magic");
            }
            final int version = in.readInt();
            if (version != VERSION)
            {
                throw damaged(file, "version " + version + " is not " + VERSION);
            }
            final long offset = in.readLong();
            final long count = in.readLong();
            if (offset < 0 || count < 0 || count > Files.size(file) / 4)
            {
                throw damaged(file, "its header says offset " + offset + " and " + count + " entries");
            }
            final List<byte[]> records = new ArrayList<>((int)Math.min(count, 1 << 20));
            for (long i = 0; i < count; i++)
            {
                final int length = in.readInt();
                if (length < KvStore.HEADER_BYTES || length > maxRecordBytes)
                {
                    throw damaged(file, "entry " + i + " claims " + Integer.toUnsignedString(length) + " bytes");
                }
                final byte[] r = new byte[length];
                in.readFully(r);
                records.add(r);
            }
            final int expected = (int)crc.getValue();
            final int stored = in.readInt();
            if (stored != expected || in.read() >= 0)
            {
                throw damaged(file, stored != expected ? "its CRC-32C does not match" : "bytes follow its CRC");
            }
            for (final byte[] r : records)
            {
                final String why = KvStore.malformed(r);
                if (why != null || r[0] != KvStore.PUT)
                {
                    throw damaged(file, why != null ? why : "it holds a delete record");
                }
            }
            return new Loaded(offset, records);
        }
        catch (final EOFException e)
        {
            throw damaged(file, "it ends early (" + Files.size(file) + " bytes)");
        }
    }

    private static IOException damaged(final Path file, final String what)
    {
        return new IOException("the /kv snapshot " + file + " is damaged: " + what + ". It is written atomically, so"
            + " this is not a crash; restore the data directory from a backup (moving the file away loses the entries it"
            + " holds: the log segments it covers were deleted)");
    }
}
