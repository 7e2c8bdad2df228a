package io.millrace.http;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.net.Connection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Sends an exchange's response on the connection's worker: encodes the head into the worker's
 * scratch buffer from parts encoded ahead of time, gathers head and body into pooled chunks (small
 * responses share one) or the head and a sendfile region, writes, and readies the exchange for the
 * connection's next request. Allocates nothing.
 *
 * <p>Threading: one instance per server; {@link #send} only on the connection's worker, which
 * picks that worker's scratch buffer by index.
 */
final class ResponseWriter
{
    private static final Logger ACCESS = LoggerFactory.getLogger("io.millrace.http.access");

    private final ByteBuffer[] scratch;
    private final boolean accessLog;

    ResponseWriter(final int workers, final boolean accessLog)
    {
        this.scratch = new ByteBuffer[workers];
        for (int i = 0; i < workers; i++)
        {
            scratch[i] = ByteBuffer.allocate(ResponseEncoder.MAX_HEAD_BYTES + 4096);
        }
        this.accessLog = accessLog;
    }

    /**
     * Writes x's response and clears the request for the next one. If the response cannot be built
     * (no chunk to be had) everything taken is released and the exception propagates.
     */
    void send(final HttpExchange x, final BufferAllocator allocator)
    {
        final Connection c = x.connection;
        final HttpRequestParser p = x.parser;
        final boolean close = x.closeAfter || !p.keepAlive();
        if (x.streamed)
        {
            finishStreamed(x, c, p, close);
            return;
        }
        final int connection = close ? ResponseEncoder.CONNECTION_CLOSE
            : p.versionMinor() == 0 ? ResponseEncoder.CONNECTION_KEEP_ALIVE : ResponseEncoder.CONNECTION_DEFAULT;
        final boolean headOnly = "HEAD".equals(p.method()) || x.status == 304 || x.status == 204;
        final FileChannel file = x.fileChannel;
        final long length = file != null ? x.fileCount : x.headOnlyLength >= 0 ? x.headOnlyLength
            : x.bodyChain != null ? x.bodyChain.readableBytes() : x.bodyLength;
        final ByteBuffer head = scratch[c.workerIndex()];
        head.clear();
        final ByteBuffer extra = x.extraHeaders;
        if (extra != null)
        {
            extra.flip();
        }
        ResponseEncoder.head(head, x.status, x.headers, length, connection, extra);
        final BufferChain out = allocator.newChain();
        try
        {
            append(out, allocator, head.array(), 0, head.position());
            if (!headOnly)
            {
                if (x.bodyArray != null && x.bodyLength > 0)
                {
                    append(out, allocator, x.bodyArray, x.bodyIndex, x.bodyLength);
                }
                else if (x.bodyChain != null)
                {
                    out.append(x.bodyChain);
                }
            }
        }
        catch (final RuntimeException ex)
        {
            out.release();
            throw ex;
        }
        if (close)
        {
            x.closing = true; // before writing: a pipelined request behind this one is never run
        }
        if (file != null && !headOnly)
        {
            x.fileChannel = null;
            final io.millrace.memory.FileRegionOwner owner = x.fileOwner;
            x.fileOwner = null;
            final ByteBuffer memory = x.fileMemory;
            x.fileMemory = null;
            if (memory != null)
            {
                // A small file the cache holds in memory: head and body in one writev, no sendfile.
                final BufferDescriptor body;
                try
                {
                    body = allocator.wrap(memory, (int)x.filePosition, (int)x.fileCount, owner);
                }
                catch (final RuntimeException | Error ex)
                {
                    out.release();
                    owner.regionSent();
                    throw ex;
                }
                out.append(body);
                c.write(out);
            }
            else if (owner != null)
            {
                c.sendFile(out, file, x.filePosition, x.fileCount, owner); // the cache keeps the channel
            }
            else
            {
                c.sendFile(out, file, x.filePosition, x.fileCount); // head and body in one flush
            }
        }
        else
        {
            c.write(out);
        }
        if (accessLog)
        {
            ACCESS.info("{} {} {} {} {}", c.remoteAddress(), p.method(), p.path(), x.status, Math.max(0, length));
        }
        x.responded = true;
        x.clearResponse();
        x.nextRequest();
        if (close && c.isOpen())
        {
            c.closeAfterFlush();
        }
    }

    /**
     * A response a proxy already wrote to the connection part by part (see {@link HttpExchange#streamed}):
     * only the bookkeeping a written response needs is left.
     */
    private void finishStreamed(final HttpExchange x, final Connection c, final HttpRequestParser p, final boolean close)
    {
        if (close)
        {
            x.closing = true;
        }
        if (accessLog)
        {
            ACCESS.info("{} {} {} {} {}", c.remoteAddress(), p.method(), p.path(), x.status, x.streamedBytes);
        }
        x.responded = true;
        x.clearResponse();
        x.nextRequest();
        if (close && c.isOpen())
        {
            c.closeAfterFlush();
        }
    }

    /** Copies bytes into the chain's last chunk and fresh ones: small copies, one gather write. */
    private static void append(final BufferChain chain, final BufferAllocator allocator, final byte[] src, final int index,
        final int length)
    {
        int at = index;
        final int end = index + length;
        while (at < end)
        {
            BufferDescriptor last = chain.last();
            if (last == null || last.writableBytes() == 0)
            {
                last = allocator.allocate();
                chain.append(last);
            }
            at += last.put(src, at, end - at);
        }
    }
}
