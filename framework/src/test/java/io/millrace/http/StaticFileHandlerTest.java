package io.millrace.http;

import io.millrace.memory.FileRegionOwner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The answers of {@link StaticFileHandler}: status, header lines, body region, and who holds the entry. */
class StaticFileHandlerTest
{
    private static final long MTIME = 784_111_777_000L;
    private static final String LAST_MODIFIED = "Sun, 06 Nov 1994 08:49:37 GMT";

    @TempDir
    Path temp;

    private long now = 1;
    private StaticFileHandler handler;
    private final StaticFileResult out = new StaticFileResult();

    @BeforeEach
    void tree() throws IOException
    {
        final Path root = Files.createDirectory(temp.resolve("root"));
        final Path page = Files.writeString(root.resolve("page.txt"), "0123456789".repeat(100));
        Files.setLastModifiedTime(page, FileTime.fromMillis(MTIME));
        Files.setLastModifiedTime(Files.writeString(root.resolve("empty.css"), ""), FileTime.fromMillis(MTIME));
        Files.writeString(root.resolve(".env"), "SECRET=1");
        handler = new StaticFileHandler(OpenFileCache.builder(new StaticFiles(root)).clock(() -> now).build());
    }

    private String headers()
    {
        return new String(out.headerBytes(), 0, out.headerLength(), StandardCharsets.US_ASCII);
    }

    private CachedFile entry()
    {
        return handler.cache().lookup("page.txt");
    }

    @Test
    void servesTheWholeFileWith200()
    {
        handler.handle("page.txt", null, null, null, out);
        assertEquals(200, out.status());
        assertEquals("Content-Type: text/plain; charset=utf-8\r\nLast-Modified: " + LAST_MODIFIED +
            "\r\nAccept-Ranges: bytes\r\n", headers());
        assertEquals(1000, out.contentLength());
        assertTrue(out.hasBody());
        assertEquals(0, out.bodyOffset());
        assertEquals(1000, out.bodyLength());
        assertSame(entry().channel(), out.channel());
        assertEquals(1, entry().holders(), "the result holds the entry");
        final ByteBuffer dst = ByteBuffer.allocate(out.headerLength());
        out.writeHeaders(dst);
        assertEquals(headers(), new String(dst.array(), StandardCharsets.US_ASCII));
    }

    @Test
    void theHoldPassesToTheSenderOrIsLetGo()
    {
        handler.handle("page.txt", null, null, null, out);
        final FileRegionOwner owner = out.takeRegionOwner();
        assertSame(entry(), owner);
        assertFalse(out.hasBody());
        assertThrows(IllegalStateException.class, out::takeRegionOwner);
        out.clear();
        assertEquals(1, entry().holders(), "clear() does not release what was handed on");
        owner.regionSent();
        assertEquals(0, entry().holders());

        handler.handle("page.txt", null, null, null, out);
        assertEquals(1, entry().holders());
        handler.handle("page.txt", null, null, null, out);
        assertEquals(1, entry().holders(), "the next handle() lets go of what the result held");
        out.clear();
        out.clear();
        assertEquals(0, entry().holders());
    }

    @Test
    void answersByteRangesWith206()
    {
        handler.handle("page.txt", null, "bytes=10-19", null, out);
        assertEquals(206, out.status());
        assertEquals("Content-Type: text/plain; charset=utf-8\r\nLast-Modified: " + LAST_MODIFIED +
            "\r\nAccept-Ranges: bytes\r\nContent-Range: bytes 10-19/1000\r\n", headers());
        assertEquals(10, out.bodyOffset());
        assertEquals(10, out.bodyLength());
        assertEquals(10, out.contentLength());

        handler.handle("page.txt", null, "bytes=-1", null, out);
        assertEquals(206, out.status());
        assertTrue(headers().endsWith("Content-Range: bytes 999-999/1000\r\n"), headers());
        assertEquals(999, out.bodyOffset());
        assertEquals(1, out.bodyLength());

        handler.handle("page.txt", null, "bytes=990-", null, out);
        assertTrue(headers().endsWith("Content-Range: bytes 990-999/1000\r\n"), headers());
        assertEquals(10, out.bodyLength());
    }

    @Test
    void answersUnsatisfiableRangesWith416()
    {
        handler.handle("page.txt", null, "bytes=1000-", null, out);
        assertEquals(416, out.status());
        assertEquals("Content-Range: bytes */1000\r\n", headers());
        assertEquals(0, out.contentLength());
        assertFalse(out.hasBody());
        assertEquals(0, entry().holders());
    }

    @Test
    void ignoresSeveralOrMalformedRanges()
    {
        for (final String range : new String[] {"bytes=0-1,3-4", "bytes=5-1", "pages=1-2", "bytes=x"})
        {
            handler.handle("page.txt", null, range, null, out);
            assertEquals(200, out.status(), range);
            assertEquals(1000, out.bodyLength(), range);
        }
    }

    @Test
    void honoursIfRangeOnlyWhenItIsTheExactLastModified()
    {
        handler.handle("page.txt", null, "bytes=0-9", LAST_MODIFIED, out);
        assertEquals(206, out.status());
        handler.handle("page.txt", null, "bytes=0-9", "Sun, 06 Nov 1994 08:49:38 GMT", out);
        assertEquals(200, out.status(), "another date: the file changed, send it whole");
        handler.handle("page.txt", null, "bytes=0-9", "\"some-etag\"", out);
        assertEquals(200, out.status(), "no ETag is sent, so none matches");
        handler.handle("page.txt", null, "bytes=0-9", "W/\"x\"", out);
        assertEquals(200, out.status());
        handler.handle("page.txt", null, "bytes=5000-", "\"x\"", out);
        assertEquals(200, out.status(), "not even a 416 when If-Range does not match");
    }

    @Test
    void answersIfModifiedSinceWith304()
    {
        handler.handle("page.txt", LAST_MODIFIED, null, null, out);
        assertEquals(304, out.status());
        assertEquals("Last-Modified: " + LAST_MODIFIED + "\r\n", headers());
        assertEquals(-1, out.contentLength());
        assertFalse(out.hasBody());
        assertEquals(0, entry().holders());
        assertSame(entry(), out.cachedFile());

        handler.handle("page.txt", "Sun, 06 Nov 1994 08:49:36 GMT", null, null, out);
        assertEquals(200, out.status(), "modified after the client's copy");
        handler.handle("page.txt", "Mon, 07 Nov 1994 08:49:37 GMT", "bytes=0-1", null, out);
        assertEquals(304, out.status(), "If-Modified-Since comes before Range");
        handler.handle("page.txt", "yesterday", null, null, out);
        assertEquals(200, out.status(), "an invalid date is ignored");
    }

    @Test
    void anEmptyFileHasNoBodyToHoldAndIgnoresRanges()
    {
        handler.handle("empty.css", null, "bytes=0-1", null, out);
        assertEquals(200, out.status());
        assertEquals(0, out.contentLength());
        assertFalse(out.hasBody());
        assertTrue(headers().startsWith("Content-Type: text/css; charset=utf-8\r\n"), headers());
        assertEquals(0, handler.cache().lookup("empty.css").holders());
    }

    @Test
    void errorsCarryOnlyTheStatus()
    {
        for (final String[] c : new String[][] {{"missing.txt", "404"}, {".env", "404"}, {"../x", "400"}, {"a%zz", "400"}})
        {
            handler.handle(c[0], "Sun, 06 Nov 1994 08:49:37 GMT", "bytes=0-1", null, out);
            assertEquals(Integer.parseInt(c[1]), out.status(), c[0]);
            assertEquals(0, out.headerLength());
            assertEquals(-1, out.contentLength());
            assertFalse(out.hasBody());
            assertNull(out.cachedFile());
        }
    }

    @Test
    void takesThePathAsBytesOfTheRequestHead()
    {
        final byte[] head = "GET /files/page.txt?x=1 HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
        final AsciiView range = new AsciiView().set("Range: bytes=1-2".getBytes(StandardCharsets.US_ASCII), 7, 9);
        handler.handle(head, 11, 8, null, range, null, out);
        assertEquals(206, out.status());
        assertEquals(1, out.bodyOffset());
        assertEquals(2, out.bodyLength());
        assertEquals("bytes=1-2", range.toString());
    }
}
