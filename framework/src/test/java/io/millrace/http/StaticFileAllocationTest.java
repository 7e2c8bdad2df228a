package io.millrace.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Counts the bytes a cached static-file request allocates, with the JVM's per-thread allocation
 * counter: deterministic enough to assert on, and no timing involved. The clock is fixed, so no
 * revalidation (which may allocate, once a second) falls into the measured loop.
 */
class StaticFileAllocationTest
{
    private static final int ROUNDS = 10_000;
    private static final long BUDGET_PER_REQUEST = 64;

    @TempDir
    Path temp;

    @Test
    void aCachedRequestAllocatesLessThan64Bytes() throws IOException
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
            "this JVM does not count allocated bytes per thread");
        final Path root = Files.createDirectory(temp.resolve("root"));
        Files.writeString(root.resolve("index.html"), "<h1>hi</h1>".repeat(100));
        final StaticFileHandler handler = new StaticFileHandler(OpenFileCache.builder(new StaticFiles(root)).clock(() -> 42).build());
        final StaticFileResult out = new StaticFileResult();
        final byte[] head = "GET /files/index.html HTTP/1.1\r\nRange: bytes=0-99\r\n".getBytes(StandardCharsets.US_ASCII);
        final AsciiView range = new AsciiView().set(head, 39, 10);
        final String since = HttpDate.format(System.currentTimeMillis());

        long sink = 0;
        for (int i = 0; i < 3 * ROUNDS; i++)
        {
            sink += request(handler, out, head, range, since, i);
        }
        final long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < ROUNDS; i++)
        {
            sink += request(handler, out, head, range, since, i);
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(ROUNDS * (1100L + 100L), sink, "every round served the whole file once and 100 bytes once");
        assertTrue(allocated < BUDGET_PER_REQUEST * ROUNDS,
            allocated + " bytes for " + ROUNDS + " requests: " + (double)allocated / ROUNDS + " per request");
        assertEquals(2, handler.cache().misses(), "the file was opened once, the missing one looked for once");
    }

    /** One request of four kinds in turn: whole file, a range, a 304, a missing file; sent, or for HEAD cleared. */
    private static long request(final StaticFileHandler handler, final StaticFileResult out, final byte[] head,
        final AsciiView range, final String since, final int i)
    {
        switch (i & 3)
        {
            case 0 -> handler.handle(head, 11, 10, null, null, null, out);
            case 1 -> handler.handle(head, 11, 10, null, range, null, out);
            case 2 -> handler.handle("index.html", since, null, null, out);
            default -> handler.handle("missing.html", null, null, null, out);
        }
        final long length = out.bodyLength();
        if (out.hasBody() && (i & 4) == 0)
        {
            out.takeRegionOwner().regionSent(); // what the connection does once the region is sent
        }
        else
        {
            out.clear(); // HEAD, or no body
        }
        return length;
    }
}
