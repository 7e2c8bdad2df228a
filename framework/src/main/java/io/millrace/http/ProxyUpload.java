package io.millrace.http;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.net.Connection;
import io.millrace.net.OutboundConnection;

import java.nio.ByteBuffer;

/**
 * The request direction of a {@link ProxyCall}: the head, then the body, either whole (kept by the
 * server, copied to each attempt so that a retry can send it again) or streamed as it arrives.
 *
 * <p>A streamed body ({@link HttpExchange#uploading}: the route let the request in at its head) is
 * parsed here, from the client connection's input, by the exchange's own request parser, and copied
 * to the upstream connection part by part (re-framed: Content-Length bodies keep their length,
 * chunked ones go chunked). Backpressure both ways: while the upstream connection is not
 * {@code isWritable()} nothing is taken from the client, whose input then fills to the transport's
 * cap and stops being read; the upstream's {@code onWritable} pumps again. While the client is the
 * slow one, its request deadline runs (a stalled upload gets cut); while the upstream is, the
 * upstream's read timeout, re-armed at every write, does (nginx's {@code proxy_send_timeout}). So an
 * exchange holds at most the client's input cap and the upstream's write watermark, whatever the
 * size of the upload. The first part, read together with the head, is kept by the server (within the
 * body budget); once a byte taken from the client's input has gone upstream the request cannot be
 * sent again ({@link #replayable}).
 *
 * <p>Threading: the call's worker only, like the call.
 */
final class ProxyUpload
{
    /** Body bytes gathered per write to the upstream before its writability is checked again. */
    private static final int WRITE_BATCH = 64 * 1024;

    private final ProxyCall call;
    /** The body streams from the client's input (else it is whole in the exchange, or there is none). */
    private boolean streaming;
    /** The streamed body goes upstream chunked (the client sent it chunked, so its length is unknown). */
    private boolean chunkedUp;
    /** Bytes taken from the client's input went upstream: they are kept nowhere, so no retry. */
    private boolean streamedOut;
    /** The whole body was handed to the upstream connection. */
    private boolean done;
    /** This attempt's head was written: body bytes may follow (a pooled lease's onConnected comes a poll later). */
    private boolean headWritten;

    ProxyUpload(final ProxyCall call)
    {
        this.call = call;
    }

    void reset()
    {
        streaming = false;
        chunkedUp = false;
        streamedOut = false;
        done = false;
        headWritten = false;
    }

    /** A new attempt leased a connection: its head is not written yet. */
    void attemptStarted()
    {
        headWritten = false;
    }

    void begin(final HttpExchange x)
    {
        streaming = x.uploading && !x.parser.isComplete();
        chunkedUp = streaming && x.parser.chunked();
        done = !streaming;
    }

    /** @return true unless part of a streamed body went upstream without being kept: the request may go again */
    boolean replayable()
    {
        return !streamedOut;
    }

    /** @return true once the whole body is on its way upstream (always for a body that was whole) */
    boolean bodySent()
    {
        return done;
    }

    /** @return whether the body is streamed from the client's input */
    boolean streaming()
    {
        return streaming;
    }

    /** The attempt is connected: sends the head and what the exchange keeps of the body, then pumps the rest. */
    void sendHead(final OutboundConnection c)
    {
        final HttpExchange x = call.x;
        final ProxyWorker w = call.w;
        final ByteBuffer fields = w.fields.clear();
        w.headers.copyRequestFields(x, call.clientAddress, false, fields);
        fields.flip();
        final long framing;
        if (streaming)
        {
            framing = chunkedUp ? RequestEncoder.CHUNKED : x.parser.contentLength();
        }
        else
        {
            final long bodyLength = x.bodyLength();
            framing = bodyLength > 0 ? bodyLength : mayHaveBody(x.method()) ? 0 : RequestEncoder.NO_BODY;
        }
        final String query = x.query();
        final String target = query == null ? x.path() : x.path() + '?' + query;
        final ByteBuffer head = w.head.clear();
        RequestEncoder.head(head, x.method(), target, call.upstream.name(), HeaderBlock.EMPTY, framing, false, fields);
        final BufferAllocator allocator = c.allocator();
        final BufferChain out = allocator.newChain();
        try
        {
            ProxyBuffers.appendWritten(out, allocator, head);
            final BufferChain body = x.body();
            if (body != null)
            {
                // Copied, not handed over: the body stays for a retry on another upstream.
                for (BufferDescriptor d = body.first(); d != null; d = d.next())
                {
                    final ByteBuffer v = d.readableBuffer();
                    if (chunkedUp)
                    {
                        v.position(v.limit()); // appendPart takes the bytes before the position
                        ProxyBuffers.appendPart(out, allocator, v, (int)d.length(), true, w.framing);
                    }
                    else
                    {
                        ProxyBuffers.append(out, allocator, v);
                    }
                }
            }
        }
        catch (final RuntimeException ex)
        {
            out.release();
            throw ex;
        }
        c.write(out);
        headWritten = true;
        if (streaming)
        {
            pump(c);
        }
    }

    /**
     * Moves body parts from the client's input to the upstream while the upstream takes them. Called
     * when connected, when the client's connection read more, and at the upstream's {@code onWritable}.
     */
    void pump(final OutboundConnection c)
    {
        if (done || !headWritten || call.conn != c)
        {
            return; // nothing to send, or the head is not out yet: sendHead starts the pump
        }
        final HttpExchange x = call.x;
        final Connection client = call.client;
        final HttpRequestParser parser = x.parser;
        final BufferAllocator allocator = c.allocator();
        final BufferChain in = client.inbound();
        BufferChain out = null;
        boolean took = false;
        int result = HttpRequestParser.NEED_MORE;
        BufferDescriptor d;
        try
        {
            while (true)
            {
                if (out != null && out.readableBytes() >= WRITE_BATCH)
                {
                    c.write(out);
                    out = null;
                }
                if (!c.isWritable() || (d = in.first()) == null)
                {
                    break;
                }
                if (d.length() == 0)
                {
                    in.removeFirst().release();
                    continue;
                }
                final ByteBuffer v = d.readableBuffer();
                final int base = v.position();
                result = parser.feed(v);
                final int used = v.position() - base;
                if (result == HttpRequestParser.BODY_PART && parser.partLength() > 0)
                {
                    if (out == null)
                    {
                        out = allocator.newChain();
                    }
                    ProxyBuffers.appendPart(out, allocator, v, parser.partLength(), chunkedUp, call.w.framing);
                    streamedOut = true;
                }
                if (used == d.length())
                {
                    in.removeFirst().release();
                }
                else
                {
                    d.skip(used);
                }
                took |= used > 0;
                if (result == HttpRequestParser.COMPLETE || result != HttpRequestParser.ERROR && parser.isComplete())
                {
                    if (chunkedUp)
                    {
                        if (out == null)
                        {
                            out = allocator.newChain();
                        }
                        ProxyBuffers.appendLastChunk(out, allocator, call.w.framing);
                    }
                    done = true;
                    break;
                }
                if (result == HttpRequestParser.ERROR || result == HttpRequestParser.NEED_MORE && used == 0)
                {
                    break;
                }
            }
        }
        catch (final RuntimeException ex)
        {
            if (out != null)
            {
                out.release();
            }
            throw ex;
        }
        if (out != null)
        {
            c.write(out);
            // Progress upstream: the read timeout counts from the last write, as a send timeout would.
            c.readTimeout(call.w.proxy.settings.outbound.readTimeoutNanos());
        }
        if (took)
        {
            client.resumeReading(); // input was taken: the transport may read the client again
        }
        if (result == HttpRequestParser.ERROR)
        {
            call.clientBodyBroken(parser.errorStatus());
            return;
        }
        if (done)
        {
            client.clearReadDeadline();
        }
        else if (!c.isWritable())
        {
            client.clearReadDeadline(); // the upstream is the slow one: the client is not to blame
        }
        else
        {
            client.readDeadline(x.server.requestTimeoutNanos); // waiting for the client: it must send in time
        }
    }

    private static boolean mayHaveBody(final String method)
    {
        return "POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method);
    }
}
