package io.millrace.http;

import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.net.Connection;
import io.millrace.net.OutboundConnection;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The response direction of a {@link ProxyCall}: parses what the upstream sends, drops interim heads,
 * lets the call retry a final head it may still retry, writes the client's head and relays the body
 * parts as they come, re-framed for the client, while the client keeps up. When the client is the
 * slow one it pauses the upstream's reading until the client drains ({@link #clientWritable}).
 *
 * <p>Threading: the call's worker only, like the call.
 */
final class ProxyRelay
{
    private static final byte[] CHUNKED_LINE = "Transfer-Encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);
    /** Response bytes gathered per write to the client before its writability is checked again. */
    private static final int WRITE_BATCH = 64 * 1024;

    final HttpResponseParser parser = new HttpResponseParser();
    private final ProxyCall call;
    /** The client's head went out: from now on nothing is retried, and a failure cuts the client. */
    boolean headSent;
    private boolean chunkedToClient;
    /** The upstream's reading is paused until the client drains. */
    boolean paused;

    ProxyRelay(final ProxyCall call)
    {
        this.call = call;
    }

    void reset()
    {
        headSent = false;
        chunkedToClient = false;
        paused = false;
    }

    /** Feeds what the upstream sent to the parser and the client, while the client keeps up. */
    void relay(final OutboundConnection c)
    {
        final HttpExchange x = call.x;
        final Connection client = call.client;
        final ProxyWorker w = call.w;
        final BufferChain in = c.inbound();
        BufferChain out = null;
        BufferDescriptor d;
        try
        {
            while (call.conn == c && (d = in.first()) != null)
            {
                if (d.length() == 0)
                {
                    in.removeFirst().release();
                    continue;
                }
                if (headSent && out != null && out.readableBytes() >= WRITE_BATCH)
                {
                    client.write(out); // released at once if the client went away; its close abandons the call
                    out = null;
                    if (!client.isWritable())
                    {
                        break;
                    }
                }
                final ByteBuffer v = d.readableBuffer();
                final int base = v.position();
                final int result = parser.feed(v);
                final int used = v.position() - base;
                if (result == HttpResponseParser.BODY_PART && headSent)
                {
                    if (out == null)
                    {
                        out = client.allocator().newChain();
                    }
                    final int part = parser.partLength();
                    ProxyBuffers.appendPart(out, client.allocator(), v, part, chunkedToClient, w.framing);
                    x.streamedBytes += part;
                }
                if (used == d.length())
                {
                    in.removeFirst().release();
                }
                else
                {
                    d.skip(used);
                }
                if (result == HttpResponseParser.FINAL_HEAD)
                {
                    out = onHead(out);
                }
                // The parser reports COMPLETE on the feed after the last part (or head); with no byte
                // left in the input that feed never comes, so completion is read from isComplete().
                if (call.conn == c && headSent && (result == HttpResponseParser.COMPLETE || result != HttpResponseParser.ERROR
                    && parser.isComplete()))
                {
                    if (out == null)
                    {
                        out = client.allocator().newChain();
                    }
                    if (chunkedToClient)
                    {
                        ProxyBuffers.appendLastChunk(out, client.allocator(), w.framing);
                    }
                    client.write(out);
                    out = null;
                    call.complete(c);
                }
                else if (result == HttpResponseParser.ERROR)
                {
                    if (out != null)
                    {
                        client.write(out);
                        out = null;
                    }
                    if (headSent)
                    {
                        call.cutClient();
                    }
                    else
                    {
                        call.attemptFailed(502, true);
                    }
                }
                else if (result == HttpResponseParser.NEED_MORE && used == 0)
                {
                    break; // nothing consumable yet (cannot happen with bytes left, but never spin)
                }
            }
        }
        catch (final RuntimeException ex)
        {
            // An allocation failed (the buffers are exhausted, SlabExhaustedException) or the parser
            // threw: the chain gathered for the client is ours alone, so it goes back before the
            // transport's guard closes the upstream connection (and the call cuts the client).
            if (out != null)
            {
                out.release();
            }
            throw ex;
        }
        if (out != null)
        {
            client.write(out);
        }
        if (call.conn == c && headSent && !client.isWritable())
        {
            // The client is the slow one: stop reading the upstream until it drains (clientWritable).
            paused = true;
            x.streamer = call;
            c.pauseReading();
            // While paused nothing of ours is in progress: the request only waits for the client to
            // read. Not "processing" then, so the server's idle timeout cuts a client that stopped
            // reading (nginx's send_timeout), which abandons the call and frees the upstream
            // connection; a client that reads keeps the connection active with every write.
            client.setProcessing(false);
            w.proxy.countClientPause();
        }
    }

    /** The final head: retry it, or send the client its head. Returns the chain to gather into. */
    private BufferChain onHead(final BufferChain out)
    {
        final HttpExchange x = call.x;
        final ProxyWorker w = call.w;
        final int status = parser.status();
        if (parser.upgraded())
        {
            call.attemptFailed(502, true); // we never forward Upgrade, so a 101 is the upstream's error
            return out;
        }
        final HttpProxyBuilder s = w.proxy.settings;
        if ((status == 502 && s.retry502 || status == 503 && s.retry503 || status == 504 && s.retry504)
            && call.mayRetryStatus())
        {
            call.attemptFailed(status, true);
            return out;
        }
        final long length = parser.contentLength();
        chunkedToClient = false;
        // A response that comes before the whole upload was sent ends the connection: the rest of the
        // client's body cannot be read past (nginx closes too).
        boolean close = !x.keepAlive() || !call.upload.bodySent();
        if (length < 0 && parser.hasBody() && !x.isHead())
        {
            if (x.versionMinor() == 1)
            {
                chunkedToClient = true;
            }
            else
            {
                close = true; // an HTTP/1.0 client reads to the close
            }
        }
        final ByteBuffer fields = w.fields.clear();
        w.headers.copyResponseFields(parser, fields);
        if (chunkedToClient)
        {
            fields.put(CHUNKED_LINE);
        }
        fields.flip();
        if (close)
        {
            x.closeAfterResponse();
        }
        final ByteBuffer head = w.head.clear();
        ResponseEncoder.head(head, status, HeaderBlock.EMPTY, length, close ? ResponseEncoder.CONNECTION_CLOSE
            : x.versionMinor() == 0 ? ResponseEncoder.CONNECTION_KEEP_ALIVE : ResponseEncoder.CONNECTION_DEFAULT, fields);
        final BufferChain chain = out != null ? out : call.client.allocator().newChain();
        ProxyBuffers.appendWritten(chain, call.client.allocator(), head);
        x.status = status;
        headSent = true;
        return chain;
    }

    /**
     * The upstream's close ended a close-delimited body: relayed chunked, it needs its last chunk,
     * or the client waits for more on a connection it may keep.
     */
    void endAtClose()
    {
        if (headSent && chunkedToClient)
        {
            final Connection client = call.client;
            final BufferChain out = client.allocator().newChain();
            try
            {
                ProxyBuffers.appendLastChunk(out, client.allocator(), call.w.framing);
            }
            catch (final RuntimeException ex)
            {
                out.release();
                throw ex;
            }
            client.write(out);
        }
    }

    /** The client's connection drained below its cap: read the upstream again and relay what waits. */
    void clientWritable(final OutboundConnection c)
    {
        paused = false;
        call.x.streamer = null;
        call.client.setProcessing(true); // in progress again (see relay)
        c.resumeReading();
        relay(c); // the bytes already waiting: no read will announce them again
    }
}
