package io.millrace.http;

import io.millrace.memory.FileRegionOwner;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * One entry of an {@link OpenFileCache}: what a request path resolved to, checked once, and for a
 * file that can be served its open channel, size, modification time and the bytes of its
 * {@code Last-Modified} and {@code Content-Type} lines. A negative entry (403, 404) remembers only
 * the status, so that probing for a missing file does not touch the disk on every request either.
 *
 * <p>A file of up to {@link OpenFileCacheBuilder#memory maxFileBytes} is also read into memory once,
 * when opened: its response leaves as one {@code writev} of head and body, where sendfile costs
 * the JDK's {@code fstat} and failing {@code copy_file_range} first, and a second system call.
 *
 * <p>Lifetime: the cache holds the entry while it is cached, and every region lent to a connection
 * holds it until the connection calls {@link #regionSent()}. The channel closes when the entry has
 * left the cache (evicted, expired, or replaced after the file changed) <em>and</em> the last
 * region using it is done, so a queued sendfile never finds its file closed. The count is a plain
 * int: an entry belongs to its cache's worker thread, and so do the connections that send it.
 */
public final class CachedFile implements FileRegionOwner
{
    final byte[] key;
    final int hash;
    private final int status;
    private final Path file;
    private final FileChannel channel;
    /** A small file's bytes, read once when opened (read-only, direct); null when it is sent with sendfile. */
    private final ByteBuffer memory;
    private final long size;
    private final long lastModifiedMillis;
    final Object fileKey;
    /** The inode's ctime in nanoseconds when opened, or {@code Long.MIN_VALUE} if unknown; see {@link FileStamp}. */
    final long changeTime;
    private final String contentType;
    final byte[] contentTypeLine;
    /** {@code Last-Modified: <IMF-fixdate>\r\n}; empty when the time does not fit an HTTP date. */
    final byte[] lastModifiedLine;

    /** Holders besides the cache: regions lent out, and a result that has not handed its region on. */
    private int holders;
    private boolean cached;
    long validatedAtNanos;
    long lastUsedNanos;
    CachedFile hashNext;
    CachedFile newer;
    CachedFile older;

    /** A negative entry, or a shared one that is never cached (400 and the like). */
    CachedFile(final byte[] key, final int hash, final int status)
    {
        this(key, hash, status, null, null, null, -1, -1, null, Long.MIN_VALUE);
    }

    CachedFile(final byte[] key, final int hash, final int status, final Path file, final FileChannel channel,
        final ByteBuffer memory, final long size, final long lastModifiedMillis, final Object fileKey, final long changeTime)
    {
        this.key = key;
        this.hash = hash;
        this.status = status;
        this.file = file;
        this.channel = channel;
        this.memory = memory;
        this.size = size;
        this.lastModifiedMillis = lastModifiedMillis;
        this.fileKey = fileKey;
        this.changeTime = changeTime;
        this.contentType = file == null ? null : StaticFiles.contentType(file);
        this.contentTypeLine = contentType == null ? new byte[0] : ascii("Content-Type: " + contentType + "\r\n");
        this.lastModifiedLine = lastModifiedLine(file, lastModifiedMillis);
    }

    private static byte[] lastModifiedLine(final Path file, final long millis)
    {
        if (file == null)
        {
            return new byte[0];
        }
        try
        {
            return ascii("Last-Modified: " + HttpDate.format(millis) + "\r\n");
        }
        catch (final IllegalArgumentException e)
        {
            // A year outside 0000-9999: no Last-Modified, so no conditional request can match it either.
            return new byte[0];
        }
    }

    private static byte[] ascii(final String s)
    {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * @return 200 for a file that can be served; 403 or 404 for a negative entry; 400 for a
     *         malformed path; 500 if the file could not be opened for another reason (too many open
     *         files, an I/O error), which is not cached
     */
    public int status()
    {
        return status;
    }

    /**
     * @return the real path of the file, or null for a negative entry
     */
    public Path file()
    {
        return file;
    }

    /**
     * @return the open channel, or null for a negative entry; do not close it, the entry does
     */
    public FileChannel channel()
    {
        return channel;
    }

    /**
     * @return the file's bytes as read when it was opened, for a file small enough to keep in memory
     *         (see {@link OpenFileCacheBuilder#memory}); null otherwise. Read-only, and shared: use
     *         it on the cache's thread, through {@code BufferAllocator.wrap} with this entry as the
     *         owner after {@link #retain()}, and never move its position or limit while another
     *         descriptor of it waits to be written.
     */
    public ByteBuffer memory()
    {
        return memory;
    }

    /**
     * @return the file's length when it was opened, or -1 for a negative entry
     */
    public long size()
    {
        return size;
    }

    /**
     * @return the file's modification time when it was opened, or -1 for a negative entry
     */
    public long lastModifiedMillis()
    {
        return lastModifiedMillis;
    }

    /**
     * @return the media type by extension (see {@link StaticFiles#contentType}), or null for a negative entry
     */
    public String contentType()
    {
        return contentType;
    }

    /**
     * @return whether the entry is still in its cache (false once evicted or replaced)
     */
    public boolean isCached()
    {
        return cached;
    }

    /**
     * A region lent to a connection is done with the channel. Called by the transport once per
     * region (see {@link io.millrace.net.Connection#sendFile(io.millrace.memory.BufferChain,
     * FileChannel, long, long, FileRegionOwner)}), on the cache's worker thread; not by anyone else.
     */
    @Override
    public void regionSent()
    {
        if (holders <= 0)
        {
            // Cannot throw here (see FileRegionOwner); a double release must not go below zero either.
            assert false : "regionSent() without a region lent out for " + file;
            return;
        }
        holders--;
        closeIfUnused();
    }

    /**
     * Adds a holder: call once for each region lent out of this entry, before handing the entry to
     * {@code Connection.sendFile} as the region's owner, whose {@link #regionSent()} gives the hold
     * back. {@link StaticFileHandler} does this for you through {@link StaticFileResult}. Owner thread only.
     *
     * @return this entry
     * @throws IllegalStateException for a negative entry, which has no channel to lend
     */
    public CachedFile retain()
    {
        if (channel == null)
        {
            throw new IllegalStateException("a " + status + " entry has no file to send: " + this);
        }
        holders++;
        return this;
    }

    void enterCache()
    {
        cached = true;
    }

    /** The cache let go of the entry; the channel closes now or when the last holder is done. */
    void leaveCache()
    {
        cached = false;
        closeIfUnused();
    }

    /** @return holders besides the cache, for tests */
    int holders()
    {
        return holders;
    }

    private void closeIfUnused()
    {
        if (!cached && holders == 0 && channel != null)
        {
            try
            {
                channel.close();
            }
            catch (final IOException e)
            {
                // A read-only file has nothing to flush; nothing to do about a failed close.
            }
        }
    }

    /** @return whether this entry's key is {@code path} */
    boolean keyEquals(final CharSequence path, final int length)
    {
        if (key.length != length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (key[i] != (byte)path.charAt(i))
            {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString()
    {
        return "cached file " + new String(key, StandardCharsets.ISO_8859_1) + " -> " + status +
            (file == null ? "" : " " + file + ", " + size + " bytes" + (memory != null ? " in memory" : "") + ", " + holders +
                " holders" + (cached ? "" : ", evicted"));
    }
}
