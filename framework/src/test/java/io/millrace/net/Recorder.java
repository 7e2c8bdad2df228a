package io.millrace.net;

import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Test handler: records every callback as an {@link Event}, sends {@link #request} once connected,
 * collects the bytes read and, once {@link #responseBytes} arrived, releases the connection (reusable
 * unless told otherwise). Subclass to make a callback misbehave.
 */
class Recorder implements OutboundHandler
{
    /** One callback, as the test thread sees it. */
    record Event(String kind, OutboundConnection connection, Object cause, boolean staleReuse, Thread thread, String text)
    {
    }

    final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    final OutboundConnections out;
    final String request;
    final int responseBytes;
    final boolean reusable;
    /** False leaves the bytes in inbound(), as a proxy whose client is slow does. */
    volatile boolean consume = true;
    final ByteArrayOutputStream received = new ByteArrayOutputStream();

    Recorder(final OutboundConnections out, final String request, final int responseBytes, final boolean reusable)
    {
        this.out = out;
        this.request = request;
        this.responseBytes = responseBytes;
        this.reusable = reusable;
    }

    static BufferChain chain(final OutboundConnection c, final String text)
    {
        final BufferChain chain = c.allocator().newChain();
        final ByteBuffer src = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
        while (src.hasRemaining())
        {
            final BufferDescriptor d = c.allocator().allocate();
            d.put(src); // as much as fits; advances src
            chain.append(d);
        }
        return chain;
    }

    /** Moves every readable byte of {@code c}'s inbound into a string, releasing the descriptors. */
    static String drain(final OutboundConnection c)
    {
        final BufferChain in = c.inbound();
        final StringBuilder sb = new StringBuilder();
        BufferDescriptor d;
        while ((d = in.removeFirst()) != null)
        {
            final ByteBuffer b = d.readableBuffer();
            final byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            sb.append(new String(bytes, StandardCharsets.US_ASCII));
            d.release();
        }
        return sb.toString();
    }

    void record(final String kind, final OutboundConnection c, final Object cause, final boolean stale, final String text)
    {
        events.add(new Event(kind, c, cause, stale, Thread.currentThread(), text));
    }

    @Override
    public void onConnected(final OutboundConnection connection)
    {
        record("connected", connection, null, false, null);
        if (request != null)
        {
            connection.write(chain(connection, request));
        }
    }

    @Override
    public void onConnectFailed(final OutboundConnection connection, final ConnectFailure cause, final Exception detail)
    {
        record("failed", connection, cause, false, String.valueOf(detail));
    }

    @Override
    public void onData(final OutboundConnection connection)
    {
        if (!consume)
        {
            record("data", connection, null, false, null);
            return;
        }
        final String text = drain(connection);
        received.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
        record("data", connection, null, false, text);
        if (responseBytes > 0 && received.size() >= responseBytes)
        {
            record("response", connection, null, false, received.toString(StandardCharsets.US_ASCII));
            out.release(connection, reusable);
        }
    }

    @Override
    public void onWritable(final OutboundConnection connection)
    {
        record("writable", connection, null, false, Long.toString(connection.pendingOutputBytes()));
    }

    @Override
    public void onClosed(final OutboundConnection connection, final OutboundCloseCause cause, final boolean staleReuse)
    {
        // The last bytes are still readable here, as documented.
        final String rest = drain(connection);
        record("closed", connection, cause, staleReuse, rest);
    }

    /** The next event of {@code kind}, skipping "data" events unless asked for; fails after 10 s. */
    Event await(final String kind) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true)
        {
            final Event e = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (e == null)
            {
                throw new AssertionError("no '" + kind + "' event within 10 s");
            }
            if (e.kind().equals(kind))
            {
                return e;
            }
            if (!e.kind().equals("data") && !e.kind().equals("connected") && !e.kind().equals("writable"))
            {
                throw new AssertionError("waited for '" + kind + "' but got " + e);
            }
        }
    }
}
