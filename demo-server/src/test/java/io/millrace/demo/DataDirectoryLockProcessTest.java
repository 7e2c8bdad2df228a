package io.millrace.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A second server on a data directory in use refuses to start, in another process or in this one. */
class DataDirectoryLockProcessTest
{
    @TempDir
    Path root;

    @Test
    @Timeout(120)
    void aSecondServerOnTheSameDataDirectoryRefusesToStartWithAMessage() throws Exception
    {
        final Path data = root.resolve("data");
        final String dir = data.toAbsolutePath().normalize().toString();
        try (ServerProcess first = ServerProcess.start("--root", root.toString(), "--data-dir", data.toString()))
        {
            // In this process too; and the refused open must not release the other process's lock
            // (closing any channel on a lock file drops the process's fcntl lock on Linux).
            try (DemoServerFixture holder = new DemoServerFixture(root, "--data-dir", root.resolve("other").toString()))
            {
                final UncheckedIOException same = assertThrows(UncheckedIOException.class,
                    () -> new DemoServerFixture(root, "--data-dir", root.resolve("other").toString()));
                assertTrue(same.getMessage().contains("another LogDirectory of this process"), same.getMessage());
                final UncheckedIOException other = assertThrows(UncheckedIOException.class,
                    () -> new DemoServerFixture(root, "--data-dir", data.toString()));
                assertTrue(other.getMessage().contains("another process"), other.getMessage());
                final ServerProcess third = ServerProcess.launch("--root", root.toString(), "--data-dir",
                    root.resolve("other").toString());
                assertEquals(2, third.exitValue(), "refused: " + third.output());
            }
            final ServerProcess second = ServerProcess.launch("--root", root.toString(), "--data-dir", data.toString());
            assertEquals(2, second.exitValue(), "a usage-style failure: " + second.output());
            final String message = second.output();
            assertTrue(message.contains("demo-server: the data directory " + dir + " is in use"), message);
            assertTrue(message.contains("stop the other one, or give this one another data directory (--data-dir)"), message);
            assertTrue(first.process.isAlive(), "the first server is untouched");
            try (DemoClient c = new DemoClient(first.port()))
            {
                assertEquals(201, c.request("POST", "/log/still-mine", new byte[] {1}).status());
            }
            assertEquals(0, first.stop(), "SIGTERM: a clean exit that releases the lock");
        }
        try (ServerProcess again = ServerProcess.start("--root", root.toString(), "--data-dir", data.toString());
             DemoClient c = new DemoClient(again.port()))
        {
            assertEquals(200, c.get("/log/still-mine/0").status(), "the lock was released at exit");
            assertEquals(0, again.stop());
        }
    }
}
