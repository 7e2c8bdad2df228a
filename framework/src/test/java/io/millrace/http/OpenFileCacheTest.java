package io.millrace.http;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The open-file cache over real files, with a clock the test moves. */
class OpenFileCacheTest
{
    private static final long SECOND = 1_000_000_000L;

    @TempDir
    Path temp;

    private Path root;
    private long now = 1_000 * SECOND;
    private OpenFileCache cache;

    @BeforeEach
    void tree() throws IOException
    {
        root = Files.createDirectory(temp.resolve("root"));
        Files.writeString(root.resolve("index.html"), "<h1>hi</h1>");
        Files.writeString(root.resolve("app.js"), "let x;");
        Files.writeString(root.resolve(".env"), "SECRET=1");
        Files.writeString(temp.resolve("secret.txt"), "secret");
        cache = builder().build();
    }

    private OpenFileCacheBuilder builder()
    {
        return OpenFileCache.builder(new StaticFiles(root)).clock(() -> now);
    }

    @Test
    void aHotFileIsResolvedAndOpenedOnce() throws IOException
    {
        final CachedFile first = cache.lookup("index.html");
        assertEquals(200, first.status());
        assertEquals(root.resolve("index.html").toRealPath(), first.file());
        assertEquals(11, first.size());
        assertEquals("text/html; charset=utf-8", first.contentType());
        assertEquals("Content-Type: text/html; charset=utf-8\r\n", new String(first.contentTypeLine, StandardCharsets.US_ASCII));
        assertEquals("Last-Modified: " + HttpDate.format(Files.getLastModifiedTime(root.resolve("index.html")).toMillis()) +
            "\r\n", new String(first.lastModifiedLine, StandardCharsets.US_ASCII));
        for (int i = 0; i < 100; i++)
        {
            now += SECOND / 1000;
            final CachedFile again = cache.lookup("index.html");
            assertSame(first, again);
            assertSame(first.channel(), again.channel());
        }
        final byte[] head = "GET /files/index.html HTTP/1.1".getBytes(StandardCharsets.US_ASCII);
        assertSame(first, cache.lookup(head, 11, 10), "a path given as bytes finds the same entry");
        assertEquals(1, cache.misses());
        assertEquals(101, cache.hits());
        assertEquals(0, cache.revalidations(), "all within the validity second");
        assertTrue(first.channel().isOpen());
    }

    @Test
    void revalidatesOncePerValidityAndKeepsAnUnchangedFile()
    {
        final CachedFile first = cache.lookup("index.html");
        now += SECOND;
        assertSame(first, cache.lookup("index.html"));
        assertEquals(1, cache.revalidations());
        for (int i = 0; i < 10; i++)
        {
            assertSame(first, cache.lookup("index.html"));
        }
        assertEquals(1, cache.revalidations(), "revalidated at most once per validity interval");
        now += SECOND;
        cache.lookup("index.html");
        assertEquals(2, cache.revalidations());
        assertTrue(first.channel().isOpen());
    }

    @Test
    void smallFilesAreReadIntoMemoryOnceWithinTheTotalAndAChangeIsReadAgain() throws IOException
    {
        cache = builder().memory(11, 15).build();
        final CachedFile index = cache.lookup("index.html");
        assertEquals("<h1>hi</h1>", text(index));
        assertTrue(index.memory().isReadOnly(), "nobody may write into a cached file's bytes");
        assertEquals(11, cache.memoryBytes());
        assertNull(cache.lookup("app.js").memory(), "6 more bytes would pass the total of 15: sent with sendfile");
        assertNull(cache.lookup(".env").memory());
        Files.writeString(root.resolve("big.txt"), "twelve bytes");
        assertNull(cache.lookup("big.txt").memory(), "larger than maxFileBytes");
        assertEquals(11, cache.memoryBytes());

        Files.writeString(root.resolve("index.html"), "<h1>new</h1>");
        now += SECOND;
        final CachedFile fresh = cache.lookup("index.html");
        assertEquals(12, fresh.size());
        assertNull(fresh.memory(), "12 bytes: too large for this cache's maxFileBytes");
        assertEquals(0, cache.memoryBytes(), "the old entry's bytes no longer count");

        Files.writeString(root.resolve("index.html"), "<h1>x</h1>");
        now += SECOND;
        assertEquals("<h1>x</h1>", text(cache.lookup("index.html")), "read again after the change");
        cache.clear();
        assertEquals(0, cache.memoryBytes());
    }

    @Test
    void noMemoryKeepsEveryFileOnSendfileAndBadSettingsAreRefused()
    {
        cache = builder().memory(0, 0).build();
        assertNull(cache.lookup("index.html").memory());
        assertEquals(0, cache.memoryBytes());
        assertThrows(IllegalArgumentException.class, () -> builder().memory(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> builder().memory(65 << 20, 1L << 40));
        assertThrows(IllegalArgumentException.class, () -> builder().memory(100, 99));
    }

    private static String text(final CachedFile e)
    {
        final java.nio.ByteBuffer b = e.memory().duplicate();
        final byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    @Test
    void aChangedFileGetsAFreshEntryAfterTheValidityAndTheOldChannelCloses() throws IOException
    {
        final Path file = root.resolve("index.html");
        final CachedFile first = cache.lookup("index.html");
        Files.writeString(file, "<h1>changed</h1>");
        assertSame(first, cache.lookup("index.html"), "trusted until the validity has passed");
        now += SECOND;
        final CachedFile fresh = cache.lookup("index.html");
        assertNotSame(first, fresh);
        assertEquals(16, fresh.size());
        assertFalse(first.isCached());
        assertFalse(first.channel().isOpen(), "nobody held the old entry: closed at once");
        assertTrue(fresh.channel().isOpen());

        // Same size, only the time differs.
        Files.writeString(file, "<h1>CHANGED</h1>");
        Files.setLastModifiedTime(file, FileTime.fromMillis(fresh.lastModifiedMillis() - 10_000));
        now += SECOND;
        final CachedFile touched = cache.lookup("index.html");
        assertNotSame(fresh, touched);
        assertEquals(fresh.lastModifiedMillis() - 10_000, touched.lastModifiedMillis());
    }

    @Test
    void aFileReplacedByRenameWithTheSameSizeAndTimeIsSeenByItsInode() throws IOException
    {
        final Path file = root.resolve("index.html");
        final CachedFile first = cache.lookup("index.html");
        final Path next = Files.writeString(root.resolve("next.tmp"), "<h1>HI</h1>");
        Files.setLastModifiedTime(next, Files.getLastModifiedTime(file));
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        now += SECOND;
        final CachedFile fresh = cache.lookup("index.html");
        assertNotSame(first, fresh);
        assertEquals(first.size(), fresh.size());
        assertEquals(first.lastModifiedMillis(), fresh.lastModifiedMillis());
        final java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(11);
        fresh.channel().read(buf, 0);
        assertEquals("<h1>HI</h1>", new String(buf.array(), StandardCharsets.US_ASCII));
    }

    @Test
    void aDeletedFileIs404AfterRevalidation() throws IOException
    {
        final CachedFile first = cache.lookup("index.html");
        Files.delete(root.resolve("index.html"));
        assertEquals(200, cache.lookup("index.html").status(), "the open channel still serves it until then");
        now += SECOND;
        assertEquals(404, cache.lookup("index.html").status());
        assertFalse(first.channel().isOpen());
        assertEquals(0, cache.size());
        assertEquals(1, cache.negativeSize());
    }

    @Test
    void negativeEntriesAreCachedAndRevalidatedToo() throws IOException
    {
        final CachedFile missing = cache.lookup("new.txt");
        assertEquals(404, missing.status());
        assertNull(missing.channel());
        assertThrows(IllegalStateException.class, missing::retain, "nothing to lend");
        assertSame(missing, cache.lookup("new.txt"));
        assertEquals(1, cache.misses());
        Files.writeString(root.resolve("new.txt"), "new");
        assertEquals(404, cache.lookup("new.txt").status(), "cached for the validity interval");
        now += SECOND;
        final CachedFile created = cache.lookup("new.txt");
        assertEquals(200, created.status());
        assertEquals(3, created.size());
        assertEquals(0, cache.negativeSize());
    }

    @Test
    void refusesWhatStaticFilesRefuses() throws IOException
    {
        Files.createSymbolicLink(root.resolve("out.txt"), temp.resolve("secret.txt"));
        assertEquals(404, cache.lookup(".env").status(), "hidden");
        assertEquals(403, cache.lookup("out.txt").status(), "a link that leads out");
        assertEquals(400, cache.lookup("../secret.txt").status());
        assertEquals(400, cache.lookup("caf\u00e9").status(), "a raw non-ASCII char");
        assertEquals(400, cache.lookup("%zz").status());
        assertEquals(2, cache.negativeSize(), "400 is not cached: it costs no file system call to repeat");
        final OpenFileCache allowing = OpenFileCache.builder(new StaticFiles(root, true)).clock(() -> now).build();
        assertEquals(200, allowing.lookup(".env").status());
    }

    @Test
    void aLinkThatLaterLeadsOutIsRefusedAfterRevalidation() throws IOException
    {
        final Path link = Files.createSymbolicLink(root.resolve("link.html"), root.resolve("index.html"));
        final CachedFile first = cache.lookup("link.html");
        assertEquals(200, first.status());
        Files.delete(link);
        Files.createSymbolicLink(link, temp.resolve("secret.txt"));
        now += SECOND;
        assertEquals(403, cache.lookup("link.html").status());
        assertFalse(first.channel().isOpen());
    }

    @Test
    void evictsTheLeastRecentlyUsedFileAndNegativeEntriesHaveTheirOwnBound() throws IOException
    {
        final OpenFileCache small = builder().maxEntries(2).maxNegativeEntries(1).build();
        Files.writeString(root.resolve("c.css"), "p{}");
        final CachedFile index = small.lookup("index.html");
        final CachedFile app = small.lookup("app.js");
        small.lookup("index.html"); // now app.js is the least recently used
        small.lookup("missing-1");
        small.lookup("missing-2");
        assertEquals(2, small.size(), "missing files do not push files out");
        assertEquals(1, small.negativeSize());
        final CachedFile css = small.lookup("c.css");
        assertEquals(2, small.size());
        assertFalse(app.isCached());
        assertFalse(app.channel().isOpen());
        assertTrue(index.isCached());
        assertTrue(css.isCached());
        assertEquals(2, small.evictions(), "missing-1 and app.js");
    }

    @Test
    void anEvictedEntryStaysOpenUntilItsLastRegionIsSent()
    {
        final OpenFileCache small = builder().maxEntries(1).build();
        final CachedFile index = small.lookup("index.html");
        index.retain(); // two regions lent out
        index.retain();
        small.lookup("app.js");
        assertFalse(index.isCached());
        assertTrue(index.channel().isOpen(), "a queued sendfile still reads it");
        index.regionSent();
        assertTrue(index.channel().isOpen());
        index.regionSent();
        assertFalse(index.channel().isOpen(), "evicted and the last region done");
        assertEquals(0, index.holders());
    }

    @Test
    void expiresInactiveEntries()
    {
        final OpenFileCache c = builder().inactive(Duration.ofSeconds(10)).build();
        final CachedFile index = c.lookup("index.html");
        c.lookup("missing");
        now += 5 * SECOND;
        final CachedFile app = c.lookup("app.js");
        now += 6 * SECOND;
        assertEquals(2, c.expireInactive(), "index.html and the missing file, unused for 11 s");
        assertFalse(index.channel().isOpen());
        assertTrue(app.isCached());
        now += 10 * SECOND;
        c.lookup("index.html"); // lookups expire too, once per validity interval
        assertFalse(app.isCached());
        assertFalse(app.channel().isOpen());
    }

    @Test
    void clearClosesEverything()
    {
        final CachedFile index = cache.lookup("index.html");
        cache.lookup("nope");
        cache.clear();
        assertEquals(0, cache.size());
        assertEquals(0, cache.negativeSize());
        assertFalse(index.channel().isOpen());
        assertEquals(200, cache.lookup("index.html").status(), "and starts over");
    }

    @Test
    void belongsToTheFirstThreadThatUsesIt() throws InterruptedException
    {
        cache.lookup("index.html");
        final AtomicReference<Throwable> thrown = new AtomicReference<>();
        final Thread other = new Thread(() ->
        {
            try
            {
                cache.lookup("index.html");
            }
            catch (final Throwable t)
            {
                thrown.set(t);
            }
        });
        other.start();
        other.join();
        assertTrue(thrown.get() instanceof IllegalStateException, String.valueOf(thrown.get()));
    }

    @Test
    void manyDistinctPathsStayWithinTheBounds() throws IOException
    {
        final OpenFileCache small = builder().maxEntries(8).maxNegativeEntries(8).build();
        final java.util.List<CachedFile> seen = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++)
        {
            Files.writeString(root.resolve("f" + i + ".txt"), "x".repeat(i));
            seen.add(small.lookup("f" + i + ".txt"));
            small.lookup("missing" + i);
            small.lookup("f" + (i / 2) + ".txt");
        }
        assertEquals(8, small.size());
        assertEquals(8, small.negativeSize());
        for (final CachedFile e : seen)
        {
            assertEquals(e.isCached(), e.channel().isOpen(), "only cached entries hold descriptors: " + e);
        }
        assertThrows(IllegalArgumentException.class, () -> builder().maxEntries(0));
    }
}
