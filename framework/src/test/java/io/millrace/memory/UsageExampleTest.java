package io.millrace.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The usage example of docs/memory.md, run: keep the two in step. */
class UsageExampleTest
{
    @TempDir
    Path dir;

    static final class Parser
    {
        int state;

        void reset()
        {
            state = 0;
        }
    }

    @Test
    void theDocumentedExampleWorks() throws IOException
    {
        final Path page = dir.resolve("page.html");
        Files.writeString(page, "<html>hello</html>");
        final Path sent = dir.resolve("sent");

        // --- as in docs/memory.md ---
        final SlabArena arena = SlabArena.builder()
            .chunkSize(16 * 1024).slabSize(1024 * 1024).maxSlabs(64)
            .leakDetector(LeakDetector.paranoid())            // in tests; production: sampled(128)
            .build();
        final BufferAllocator alloc = arena.newAllocator("w0", Thread.currentThread());
        final LookasidePool<Parser> parsers = LookasidePool.builder("w0-parsers", Parser::new)
            .maxIdle(256).preallocate(32).reset(Parser::reset).owner(Thread.currentThread()).build();

        final Parser parser = parsers.acquire();
        parser.state = 7;
        parsers.release(parser);                               // any thread may release

        final BufferDescriptor cachedBody = alloc.allocate();  // e.g. a cached fragment, kept by a cache
        cachedBody.put(StandardCharsets.US_ASCII.encode("<p>cached</p>"));

        try (FileChannel file = FileChannel.open(page, StandardOpenOption.READ);
             FileChannel socket = FileChannel.open(sent, StandardOpenOption.CREATE, StandardOpenOption.WRITE))
        {
            final BufferDescriptor header = alloc.allocate(64)   // a 64-byte slot of a shared chunk
                .putAscii("HTTP/1.1 200 OK\r\n\r\n");             // all or nothing; returns the buffer
            final BufferChain response = alloc.newChain()
                .append(header)                                 // the chain now owns header
                .append(alloc.slice(cachedBody))                // shares the chunk: no copy
                .append(alloc.fileRegion(file, 0, file.size())); // sent with transferTo (sendfile)
            while (!response.isEmpty())
            {
                if (response.writeTo(socket) == 0)
                {
                    break;                                      // a full socket: wait for OP_WRITE, call again
                }
            }
            response.release();                                 // releases header, slice and region
        }
        cachedBody.release();                                   // the cache's own reference
        alloc.onIdle(System.nanoTime());                        // what the worker calls on its idle turn
        parsers.onIdle(System.nanoTime());
        // --- end of example ---

        assertEquals("HTTP/1.1 200 OK\r\n\r\n<p>cached</p><html>hello</html>", Files.readString(sent));
        assertEquals(1, alloc.smallBufferStats().chunksHeld(), "the chunk the header was carved from, kept for the next");
        assertEquals(1, alloc.chunkStats().live(), "no chunk but that one is out");
        assertEquals(0, alloc.descriptorStats().live());
        assertEquals(0, parsers.stats().live());
        assertEquals(0, parser.state, "the reset hook ran");
    }
}
