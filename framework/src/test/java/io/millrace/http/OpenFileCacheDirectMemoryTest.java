package io.millrace.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When the JVM's direct memory is used up, a small file is served with sendfile instead of being
 * read into memory: the failed reservation is an {@link OutOfMemoryError} that would otherwise count
 * as fatal and end the worker. Runs in a child JVM with a 256 KiB direct-memory limit.
 */
@Timeout(60)
class OpenFileCacheDirectMemoryTest
{
    @TempDir
    Path temp;

    @Test
    void filesPastTheDirectMemoryLimitFallBackToSendfile() throws IOException, InterruptedException
    {
        final Path root = Files.createDirectory(temp.resolve("root"));
        for (int i = 0; i < 8; i++)
        {
            Files.write(root.resolve("f" + i), new byte[60 * 1024]);
        }
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final List<String> command = new ArrayList<>(List.of(java, "-XX:MaxDirectMemorySize=256k", "-cp",
            System.getProperty("java.class.path"), Child.class.getName(), root.toString()));
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(50, TimeUnit.SECONDS), "the child finished");
        assertEquals(0, p.exitValue(), out);
        final String[] lines = out.trim().split("\n");
        final String last = lines[lines.length - 1];
        assertTrue(last.startsWith("200x8 "), out);
        final int inMemory = Integer.parseInt(last.substring("200x8 ".length()).split(" ")[0]);
        assertTrue(inMemory >= 1 && inMemory < 8, "some in memory, the rest on sendfile once the limit was hit: " + out);
    }

    /** Looks up every file; prints "200x&lt;count&gt; &lt;in memory&gt; in memory". */
    public static final class Child
    {
        public static void main(final String[] args)
        {
            final List<ByteBuffer> hold = new ArrayList<>();
            final OpenFileCache cache = OpenFileCache.builder(new StaticFiles(Path.of(args[0]))).memory(64 * 1024, 1 << 20).build();
            int ok = 0;
            int inMemory = 0;
            for (int i = 0; i < 8; i++)
            {
                final CachedFile e = cache.lookup("f" + i);
                ok += e.status() == 200 && e.channel().isOpen() ? 1 : 0;
                if (e.memory() != null)
                {
                    inMemory++;
                    hold.add(e.memory());
                }
            }
            System.out.println("200x" + ok + " " + inMemory + " in memory (" + hold.size() + " held)");
        }
    }
}
