package io.millrace.http;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * What an {@link OpenFileCache} compares to see that a file changed: size, modification time,
 * inode ({@code fileKey}) and change time, all from one {@code stat}. The change time (ctime)
 * cannot be set back, unlike the modification time, so a file rewritten in place with its size and
 * mtime kept ({@code rsync --inplace -t}, {@code cp -p}, {@code touch -r}) is still seen as
 * changed: which matters for a file kept in memory, whose old bytes would otherwise be served for
 * as long as its entry stays cached. Where the platform has no {@code unix} attribute view the
 * change time is {@code Long.MIN_VALUE} and only the other three count.
 */
record FileStamp(long size, long modifiedMillis, Object fileKey, long changeNanos)
{
    private static final String UNIX_ATTRIBUTES = "unix:size,lastModifiedTime,fileKey,ctime";

    /** Reads the stamp of {@code real} without following a link. */
    static FileStamp of(final Path real) throws IOException
    {
        try
        {
            final Map<String, Object> a = Files.readAttributes(real, UNIX_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
            return new FileStamp((Long)a.get("size"), ((FileTime)a.get("lastModifiedTime")).toMillis(), a.get("fileKey"),
                ((FileTime)a.get("ctime")).to(TimeUnit.NANOSECONDS));
        }
        catch (final UnsupportedOperationException | IllegalArgumentException noUnixView)
        {
            final BasicFileAttributes b = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return new FileStamp(b.size(), b.lastModifiedTime().toMillis(), b.fileKey(), Long.MIN_VALUE);
        }
    }

    /** @return whether {@code e} was opened from a file with this stamp */
    boolean matches(final CachedFile e)
    {
        return size == e.size() && modifiedMillis == e.lastModifiedMillis() && Objects.equals(fileKey, e.fileKey) &&
            changeNanos == e.changeTime;
    }
}
