package io.millrace.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/**
 * Open files of a {@link StaticFiles} root, kept like nginx's {@code open_file_cache}: a hot file
 * is resolved, checked and opened once, not on every request. {@link #lookup(CharSequence)} finds
 * the entry for a raw request path (as {@link StaticFiles#resolve} takes it) by hashing the path and
 * comparing it with the stored key, and allocates nothing on a hit.
 *
 * <p>Freshness: an entry is revalidated at most once per {@code validity} (default 1 s), on the
 * first lookup after that, never per request: the path is resolved again from scratch (so a link
 * that now leads out, a new hidden segment, a deleted file are all seen) and the file's inode,
 * size, modification time and change time (ctime) are compared with the entry's. A changed file gets a fresh entry with
 * a freshly opened channel; a deleted one becomes a negative entry (404). The default is shorter
 * than nginx's 60 s because the check costs a few syscalls per file per second, which is nothing
 * next to a syscall-heavy open per request, while 60 s of serving a deleted or replaced file
 * surprises whoever deploys. A file rewritten in place (same inode) may be served mixed until then;
 * replace files by renaming a new one over them, as with any sendfile server.
 *
 * <p>Bounds: at most {@code maxEntries} files are cached (each holds a descriptor, so the server
 * holds up to workers x maxEntries, plus evicted ones still being sent) and {@code maxNegativeEntries}
 * negative entries, each in least-recently-used order; negative entries have a bound of their own
 * so that probing for missing files cannot push the hot files out. Entries unused for
 * {@code inactive} (default 60 s, nginx's default) are dropped by {@link #expireInactive()}, which
 * lookups run once per validity interval; call it on the worker's idle turn too, so that an idle
 * server lets its descriptors go. Keys are the raw path, so {@code a%2Eb} and {@code a.b} are two
 * entries of the same file. Malformed paths (400) and failures to open other than "missing" and
 * "denied" (500: too many open files, I/O errors) are not cached.
 *
 * <p>Memory: files up to {@link OpenFileCacheBuilder#memory maxFileBytes} (64 KiB by default) are
 * also read into memory when opened, up to a total per cache, and answered with one
 * {@code writev} of head and body: see {@link CachedFile#memory()}.
 *
 * <p>Threading: one cache per worker thread, used by that thread alone, with no lock: the thread
 * that first calls {@link #lookup} owns it, and any other thread's lookup throws. The entries'
 * reference counts are plain ints for the same reason: the connections that send an entry belong to
 * the same worker (place the static-file stage with {@code Placement.onWorker}).
 */
public final class OpenFileCache
{
    private static final CachedFile BAD_REQUEST = new CachedFile(new byte[0], 0, 400);
    private static final CachedFile NOT_CACHED_404 = new CachedFile(new byte[0], 0, 404);
    private static final CachedFile NOT_CACHED_403 = new CachedFile(new byte[0], 0, 403);
    private static final CachedFile OPEN_FAILED = new CachedFile(new byte[0], 0, 500);

    private final StaticFiles files;
    private final int maxEntries;
    private final int maxNegativeEntries;
    private final long validityNanos;
    private final long inactiveNanos;
    private final LongSupplier clock;
    private final int seed = ThreadLocalRandom.current().nextInt();
    private final CachedFile[] buckets;
    private final EntryList positive = new EntryList();
    private final EntryList negative = new EntryList();
    private final AsciiView bytesView = new AsciiView();
    private Thread owner;
    private long lastExpiryNanos;
    private long hits;
    private long misses;
    private long revalidations;
    private long evictions;
    private final int memoryMaxFileBytes;
    private final long memoryMaxTotalBytes;
    /** Bytes of the cached entries' memory; entries that left the cache no longer count. */
    private long memoryBytes;

    OpenFileCache(final OpenFileCacheBuilder b)
    {
        this.files = b.files;
        this.maxEntries = b.maxEntries;
        this.maxNegativeEntries = b.maxNegativeEntries;
        this.validityNanos = b.validity.toNanos();
        this.inactiveNanos = b.inactive.toNanos();
        this.clock = b.clock;
        this.memoryMaxFileBytes = b.memoryMaxFileBytes;
        this.memoryMaxTotalBytes = b.memoryMaxTotalBytes;
        this.buckets = new CachedFile[Integer.highestOneBit(Math.max(8, (maxEntries + maxNegativeEntries) * 2 - 1)) << 1];
        this.lastExpiryNanos = clock.getAsLong();
    }

    /**
     * @param files the root and policy to serve
     * @return a builder with nginx-like defaults: 256 files, 256 negative entries, validity 1 s, inactive 60 s
     */
    public static OpenFileCacheBuilder builder(final StaticFiles files)
    {
        return new OpenFileCacheBuilder(Objects.requireNonNull(files, "files"));
    }

    /**
     * Like {@link #lookup(CharSequence)}, for a path in a buffer: bytes {@code offset} to
     * {@code offset + length} of {@code bytes}, e.g. the request head.
     */
    public CachedFile lookup(final byte[] bytes, final int offset, final int length)
    {
        return lookup(bytesView.set(bytes, offset, length));
    }

    /**
     * Finds or makes the entry for a raw request path (see {@link StaticFiles#resolve}). Allocates
     * nothing when the entry is cached and still valid. The entry's channel is only sure to stay
     * open until this thread's next lookup, which may evict it: to send from it, {@link
     * CachedFile#retain()} it and pass it as the region's owner to {@code Connection.sendFile}, as
     * {@link StaticFileHandler} does through {@link StaticFileResult}.
     *
     * @param rawPath the path after the static prefix, still percent-encoded, without the query
     * @return the entry; see {@link CachedFile#status()}
     * @throws IllegalStateException on a thread other than the cache's owner
     */
    public CachedFile lookup(final CharSequence rawPath)
    {
        checkOwner();
        final int length = rawPath.length();
        int h = seed;
        for (int i = 0; i < length; i++)
        {
            final char c = rawPath.charAt(i);
            if (c > 0x7E)
            {
                return BAD_REQUEST; // StaticFiles refuses it too; keeps keys one byte per char
            }
            // FNV-1a from a per-cache random basis: colliding paths are harder to prepare, and a chain
            // can never be longer than the bounded number of entries anyway.
            h = (h ^ c) * 0x0100_0193;
        }
        h ^= h >>> 16;
        final long now = clock.getAsLong();
        if (now - lastExpiryNanos >= validityNanos)
        {
            lastExpiryNanos = now;
            expire(now);
        }
        CachedFile e = buckets[h & (buckets.length - 1)];
        while (e != null && (e.hash != h || !e.keyEquals(rawPath, length)))
        {
            e = e.hashNext;
        }
        if (e == null)
        {
            misses++;
            final byte[] key = new byte[length];
            for (int i = 0; i < length; i++)
            {
                key[i] = (byte)rawPath.charAt(i);
            }
            return insert(load(key, h), now);
        }
        if (now - e.validatedAtNanos >= validityNanos)
        {
            revalidations++;
            e = revalidate(e, now);
        }
        else
        {
            hits++;
        }
        if (e.isCached())
        {
            e.lastUsedNanos = now;
            (e.status() == 200 ? positive : negative).moveToNewest(e);
        }
        return e;
    }

    /**
     * Drops entries unused for the {@code inactive} time, closing their channels (or leaving that
     * to the last region still being sent). Owner thread only; cheap when there is nothing to drop.
     *
     * @return entries dropped
     */
    public int expireInactive()
    {
        checkOwner();
        return expire(clock.getAsLong());
    }

    /**
     * Drops every entry, e.g. when the worker stops; channels still lent out close when their
     * regions are done. Owner thread only.
     */
    public void clear()
    {
        checkOwner();
        while (positive.oldest != null)
        {
            remove(positive.oldest);
        }
        while (negative.oldest != null)
        {
            remove(negative.oldest);
        }
    }

    /**
     * Drops every entry once the owner thread has ended (a worker after its pipeline stopped), from
     * the thread that saw it end: channels close now, or when the last region still held is released.
     * A cache no thread ever used has nothing to drop.
     *
     * @throws IllegalStateException if the owner thread is still alive; call {@link #clear()} on it instead
     */
    public void ownerStopped()
    {
        final Thread o = owner;
        if (o != null && o.isAlive())
        {
            throw new IllegalStateException("open-file cache: ownerStopped() while its owner '" + o.getName() +
                "' is still alive; call it once the owner has terminated, or clear() on the owner");
        }
        owner = Thread.currentThread();
        clear();
    }

    /** @return cached files (entries holding a channel) */
    public int size()
    {
        return positive.count;
    }

    /** @return cached negative entries */
    public int negativeSize()
    {
        return negative.count;
    }

    /** @return lookups answered from a valid entry; owner thread */
    public long hits()
    {
        return hits;
    }

    /** @return lookups that found no entry and resolved the path; owner thread */
    public long misses()
    {
        return misses;
    }

    /** @return lookups that found an entry due for revalidation; owner thread */
    public long revalidations()
    {
        return revalidations;
    }

    /** @return entries dropped for room, inactivity or a changed file; owner thread */
    public long evictions()
    {
        return evictions;
    }

    /** Resolves and opens; allocation is fine here, this is the miss path. */
    private CachedFile load(final byte[] key, final int hash)
    {
        final StaticFiles.Resolution r = files.resolve(new String(key, StandardCharsets.ISO_8859_1));
        return switch (r.status())
        {
            case 200 -> open(key, hash, r.file());
            case 400 -> BAD_REQUEST;
            default -> new CachedFile(key, hash, r.status());
        };
    }

    private CachedFile open(final byte[] key, final int hash, final Path real)
    {
        FileChannel channel = null;
        try
        {
            // Stamped before the bytes are read: a write after this point moves the change time again.
            final FileStamp stamp = FileStamp.of(real);
            // NOFOLLOW_LINKS: the real path has no links, so one found now was put there since.
            channel = FileChannel.open(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
            final long size = channel.size();
            return new CachedFile(key, hash, 200, real, channel, readSmall(channel, size), size, stamp.modifiedMillis(),
                stamp.fileKey(), stamp.changeNanos());
        }
        catch (final NoSuchFileException e)
        {
            return new CachedFile(key, hash, 404);
        }
        catch (final AccessDeniedException e)
        {
            return new CachedFile(key, hash, 403);
        }
        catch (final IOException | RuntimeException e)
        {
            if (channel != null)
            {
                try
                {
                    channel.close();
                }
                catch (final IOException suppressed)
                {
                    e.addSuppressed(suppressed);
                }
            }
            // Too many open files, an I/O error, a link swapped in since the path was resolved (ELOOP):
            // not a property of the path that a cached answer should repeat.
            return OPEN_FAILED;
        }
    }

    /**
     * The file's bytes if it is small enough and the total allows, else null (sendfile). A file
     * that shrank while being read is left to sendfile too, which reports it the way it reports
     * any region past the end of its file.
     */
    private ByteBuffer readSmall(final FileChannel channel, final long size) throws IOException
    {
        if (size == 0 || size > memoryMaxFileBytes || memoryBytes + size > memoryMaxTotalBytes)
        {
            return null;
        }
        final ByteBuffer bytes;
        try
        {
            bytes = ByteBuffer.allocateDirect((int)size);
        }
        catch (final OutOfMemoryError directMemoryFull)
        {
            // -XX:MaxDirectMemorySize reached: a reservation that failed, not an exhausted heap.
            // The file is served with sendfile instead; the worker must not die over a cache.
            return null;
        }
        while (bytes.hasRemaining())
        {
            if (channel.read(bytes, bytes.position()) < 0)
            {
                return null;
            }
        }
        return bytes.flip().asReadOnlyBuffer();
    }

    /** @return bytes of file contents the cached entries hold in memory; owner thread */
    public long memoryBytes()
    {
        return memoryBytes;
    }

    /** Keeps {@code e} if its file is unchanged, else puts a fresh entry in its place. */
    private CachedFile revalidate(final CachedFile e, final long now)
    {
        final StaticFiles.Resolution r = files.resolve(new String(e.key, StandardCharsets.ISO_8859_1));
        if (r.status() == e.status() && (r.status() != 200 || unchanged(e, r.file())))
        {
            e.validatedAtNanos = now;
            return e;
        }
        remove(e);
        return insert(r.status() == 200 ? open(e.key, e.hash, r.file()) : new CachedFile(e.key, e.hash, r.status()), now);
    }

    private static boolean unchanged(final CachedFile e, final Path real)
    {
        if (!real.equals(e.file()))
        {
            return false;
        }
        try
        {
            return FileStamp.of(real).matches(e);
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    private CachedFile insert(final CachedFile e, final long now)
    {
        final boolean isPositive = e.status() == 200;
        if (e == BAD_REQUEST || e == OPEN_FAILED)
        {
            return e;
        }
        if (!isPositive && maxNegativeEntries == 0)
        {
            return e.status() == 403 ? NOT_CACHED_403 : NOT_CACHED_404;
        }
        final EntryList list = isPositive ? positive : negative;
        if (list.count >= (isPositive ? maxEntries : maxNegativeEntries))
        {
            remove(list.oldest);
        }
        e.validatedAtNanos = now;
        e.lastUsedNanos = now;
        final int slot = e.hash & (buckets.length - 1);
        e.hashNext = buckets[slot];
        buckets[slot] = e;
        list.addNewest(e);
        e.enterCache();
        if (e.memory() != null)
        {
            memoryBytes += e.size();
        }
        return e;
    }

    private void remove(final CachedFile e)
    {
        final int slot = e.hash & (buckets.length - 1);
        if (buckets[slot] == e)
        {
            buckets[slot] = e.hashNext;
        }
        else
        {
            CachedFile p = buckets[slot];
            while (p.hashNext != e)
            {
                p = p.hashNext;
            }
            p.hashNext = e.hashNext;
        }
        e.hashNext = null;
        (e.status() == 200 ? positive : negative).unlink(e);
        evictions++;
        if (e.memory() != null)
        {
            memoryBytes -= e.size();
        }
        e.leaveCache();
    }

    private int expire(final long now)
    {
        return expire(positive, now) + expire(negative, now);
    }

    private int expire(final EntryList list, final long now)
    {
        int dropped = 0;
        while (list.oldest != null && now - list.oldest.lastUsedNanos >= inactiveNanos)
        {
            remove(list.oldest);
            dropped++;
        }
        return dropped;
    }

    private void checkOwner()
    {
        final Thread current = Thread.currentThread();
        if (owner != current)
        {
            if (owner != null)
            {
                throw new IllegalStateException("this open-file cache belongs to thread '" + owner.getName() + "', not '" +
                    current.getName() + "': make one per worker");
            }
            owner = current;
        }
    }
}
