package io.millrace.net;

import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.FileRegionOwner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;

import static io.millrace.net.SyncEchoServer.assertClosedByServer;
import static io.millrace.net.SyncEchoServer.awaitTrue;
import static io.millrace.net.SyncEchoServer.connect;
import static io.millrace.net.SyncEchoServer.readExactly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Connection#sendFile(BufferChain, FileChannel, long, long, FileRegionOwner)}: the owner is
 * told exactly once, when the region is sent or dropped, and the connection never closes its file.
 */
@Timeout(60)
class SendFileOwnerTest
{
    @TempDir
    Path dir;

    /** Counts its calls; the channel it lends stays open for the whole test. */
    private static final class CountingOwner implements FileRegionOwner
    {
        final AtomicInteger sent = new AtomicInteger();

        @Override
        public void regionSent()
        {
            sent.incrementAndGet();
        }
    }

    /**
     * On 'F' sends "HEAD\n" and the file; on 'X' closes; on 'Z' closes and then sends, so the region
     * meets a closed connection.
     */
    private static final class FileSender extends SyncEchoServer.Handler
    {
        final FileChannel file;
        final long size;
        final CountingOwner owner = new CountingOwner();
        volatile int toldBeforeReturn = -1;

        FileSender(final FileChannel file) throws IOException
        {
            this.file = file;
            this.size = file.size();
        }

        @Override
        public void onRead(final Connection c)
        {
            final BufferChain in = c.inbound();
            while (in.readableBytes() > 0)
            {
                final BufferDescriptor first = in.first();
                final ByteBuffer view = first.readableBuffer();
                final byte command = view.get(view.position());
                first.skip(1);
                if (first.length() == 0)
                {
                    in.removeFirst().release();
                }
                switch (command)
                {
                    case 'F' -> c.sendFile(head(c), file, 0, size, owner);
                    case 'X' -> c.close();
                    case 'Z' ->
                    {
                        c.close();
                        c.sendFile(head(c), file, 0, size, owner);
                        toldBeforeReturn = owner.sent.get();
                    }
                    default -> { }
                }
                if (!c.isOpen())
                {
                    return;
                }
            }
        }

        private static BufferChain head(final Connection c)
        {
            final BufferChain head = c.allocator().newChain();
            final BufferDescriptor d = c.allocator().allocate();
            d.put(StandardCharsets.US_ASCII.encode("HEAD\n"));
            head.append(d);
            return head;
        }
    }

    private FileChannel file(final int size) throws IOException
    {
        final byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++)
        {
            bytes[i] = (byte)('a' + i % 26);
        }
        return FileChannel.open(Files.write(dir.resolve("f" + size), bytes), StandardOpenOption.READ);
    }

    @Test
    void toldOnceAfterTheRegionIsSentAndTheFileStaysOpen() throws Exception
    {
        try (FileChannel file = file(100_000))
        {
            final FileSender handler = new FileSender(file);
            try (SyncEchoServer server = new SyncEchoServer(1, handler, b -> { }); Socket s = connect(server.port()))
            {
                final InputStream in = s.getInputStream();
                for (int round = 1; round <= 3; round++)
                {
                    s.getOutputStream().write('F');
                    assertEquals("HEAD\n", new String(readExactly(in, 5), StandardCharsets.US_ASCII));
                    final byte[] body = readExactly(in, 100_000);
                    assertEquals('a', body[0]);
                    assertEquals('a' + 99_999 % 26, body[99_999]);
                    final int expected = round;
                    awaitTrue(() -> handler.owner.sent.get() == expected, "told once per region sent");
                    assertTrue(file.isOpen(), "the connection does not close a file it did not take");
                }
                s.getOutputStream().write('X');
                assertClosedByServer(s);
                awaitTrue(() -> server.server.stats().closed() == 1, "closed");
                assertEquals(3, handler.owner.sent.get(), "closing tells nobody again");
            }
            assertTrue(file.isOpen());
        }
    }

    @Test
    void toldOnceWhenTheConnectionClosesBeforeTheRegionIsSent() throws Exception
    {
        // 32 MiB against small socket buffers and a client that does not read: the region stays queued.
        try (FileChannel file = file(32 << 20))
        {
            final FileSender handler = new FileSender(file);
            try (SyncEchoServer server = new SyncEchoServer(1, handler,
                b -> b.sendBufferSize(64 * 1024).maxPendingOutputBytes(1L << 30));
                 Socket s = connect(server.port()))
            {
                s.setReceiveBufferSize(64 * 1024);
                s.getOutputStream().write('F');
                awaitTrue(() -> server.server.stats().bytesWritten() > 0, "the server started sending");
                assertEquals(0, handler.owner.sent.get(), "not told while the region is still queued");
                s.getOutputStream().write('X');
                awaitTrue(() -> server.server.stats().closed() == 1, "closed");
                awaitTrue(() -> handler.owner.sent.get() == 1, "told once the queued region was dropped");
            }
            assertEquals(1, handler.owner.sent.get());
            assertTrue(file.isOpen());
        }
    }

    @Test
    void toldAtOnceWhenTheConnectionIsAlreadyClosed() throws Exception
    {
        try (FileChannel file = file(10))
        {
            final FileSender handler = new FileSender(file);
            try (SyncEchoServer server = new SyncEchoServer(1, handler, b -> { }); Socket s = connect(server.port()))
            {
                s.getOutputStream().write('Z');
                assertClosedByServer(s);
                awaitTrue(() -> handler.toldBeforeReturn >= 0, "the handler ran");
                assertEquals(1, handler.toldBeforeReturn, "told before sendFile returned");
                assertEquals(1, handler.owner.sent.get());
            }
            assertTrue(file.isOpen());
        }
    }
}
