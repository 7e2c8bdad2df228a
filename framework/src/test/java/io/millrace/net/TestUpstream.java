package io.millrace.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test upstream: a blocking loopback server, a thread per connection, that answers each request line
 * according to its {@link Mode}. Records how each connection ended ("eof" or "reset") in {@link #ends}.
 */
final class TestUpstream implements AutoCloseable
{
    enum Mode
    {
        /** Answers each line with the same line. */
        ECHO,
        /** Answers the first line of a connection; reads the second and closes without an answer (the keep-alive race). */
        CLOSE_ON_SECOND,
        /** Reads, never answers. */
        SILENT,
        /** Reads nothing until {@link #startReading()}, then reads and discards everything. */
        SLOW_READER,
        /** Answers the first line with "bye\n" and closes (a close-delimited response). */
        SEND_AND_CLOSE
    }

    private final ServerSocket listener;
    private final Thread acceptor;
    private final List<Socket> sockets = new ArrayList<>();
    private final CountDownLatch reading = new CountDownLatch(1);
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger requests = new AtomicInteger();
    final BlockingQueue<String> ends = new LinkedBlockingQueue<>();
    volatile Mode mode;

    TestUpstream(final Mode mode) throws IOException
    {
        this.mode = mode;
        listener = new ServerSocket();
        if (mode == Mode.SLOW_READER)
        {
            listener.setReceiveBufferSize(16 * 1024); // inherited by accepted sockets: the writer's queue fills soon
        }
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
        acceptor = new Thread(this::acceptLoop, "test-upstream-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    InetSocketAddress address()
    {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
    }

    /**
     * Fills the accept queue of {@code full} (a listener with backlog 1 that never accepts) until a
     * connect to it hangs: Linux then drops SYNs (with {@code tcp_abort_on_overflow} at its default 0),
     * so a connect gets no answer at all, as from a dead host, without leaving loopback.
     *
     * @return false if a connect was refused instead (the caller skips its test)
     */
    static boolean fillBacklog(final ServerSocket full, final List<Socket> fillers) throws IOException
    {
        final InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), full.getLocalPort());
        for (int i = 0; i < 16; i++)
        {
            final Socket s = new Socket();
            fillers.add(s);
            try
            {
                s.connect(address, 200);
            }
            catch (final java.net.SocketTimeoutException ex)
            {
                return true;
            }
            catch (final IOException ex)
            {
                return false;
            }
        }
        return false;
    }

    void startReading()
    {
        reading.countDown();
    }

    /** Closes every accepted connection from this side, as an upstream whose keep-alive timeout passed. */
    void closeAccepted() throws IOException
    {
        synchronized (sockets)
        {
            for (final Socket s : sockets)
            {
                s.close();
            }
            sockets.clear();
        }
    }

    private void acceptLoop()
    {
        while (!listener.isClosed())
        {
            final Socket s;
            try
            {
                s = listener.accept();
            }
            catch (final IOException ex)
            {
                return; // closed
            }
            accepted.incrementAndGet();
            synchronized (sockets)
            {
                sockets.add(s);
            }
            final Thread t = new Thread(() -> serve(s), "test-upstream-" + accepted.get());
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(final Socket s)
    {
        try (s)
        {
            final InputStream in = new java.io.BufferedInputStream(s.getInputStream());
            final OutputStream out = s.getOutputStream();
            if (mode == Mode.SLOW_READER)
            {
                reading.await(30, TimeUnit.SECONDS);
                final byte[] sink = new byte[64 * 1024];
                while (in.read(sink) >= 0)
                {
                    // discard
                }
                ends.add("eof");
                return;
            }
            int lines = 0;
            final StringBuilder line = new StringBuilder();
            int b;
            while ((b = in.read()) >= 0)
            {
                line.append((char)b);
                if (b != '\n')
                {
                    continue;
                }
                lines++;
                requests.incrementAndGet();
                final String request = line.toString();
                line.setLength(0);
                switch (mode)
                {
                    case ECHO -> out.write(request.getBytes(StandardCharsets.US_ASCII));
                    case CLOSE_ON_SECOND ->
                    {
                        if (lines >= 2)
                        {
                            ends.add("closed-on-second");
                            return;
                        }
                        out.write(request.getBytes(StandardCharsets.US_ASCII));
                    }
                    case SEND_AND_CLOSE ->
                    {
                        out.write("bye\n".getBytes(StandardCharsets.US_ASCII));
                        ends.add("sent-and-closed");
                        return;
                    }
                    default ->
                    {
                    }
                }
                out.flush();
            }
            ends.add("eof");
        }
        catch (final SocketException ex)
        {
            ends.add(ex.getMessage() != null && ex.getMessage().contains("reset") ? "reset" : "closed: " + ex.getMessage());
        }
        catch (final IOException | InterruptedException ex)
        {
            ends.add("error: " + ex);
        }
    }

    @Override
    public void close() throws IOException
    {
        listener.close();
        closeAccepted();
        try
        {
            acceptor.join(5_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
