package io.millrace.http;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;

import java.nio.ByteBuffer;

/**
 * Copying into pooled chains, for the proxy's two directions: bytes are copied chunk to chunk (pooled
 * chunks are direct), never gathered into an array. Copies, not slices: a slice keeps its whole input
 * chunk alive, so many small parts would hold many chunks; a copy holds what it carries.
 */
final class ProxyBuffers
{
    private ProxyBuffers()
    {
    }

    /** Copies {@code src[index, index + length)} into the chain, adding chunks as needed. */
    static void append(final BufferChain chain, final BufferAllocator allocator, final byte[] src, final int index,
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

    /** Copies {@code src}'s remaining bytes into the chain, consuming them. */
    static void append(final BufferChain chain, final BufferAllocator allocator, final ByteBuffer src)
    {
        while (src.hasRemaining())
        {
            BufferDescriptor last = chain.last();
            if (last == null || last.writableBytes() == 0)
            {
                last = allocator.allocate();
                chain.append(last);
            }
            last.put(src);
        }
    }

    /** Copies what {@code scratch} holds from 0 to its position (an encoded head or chunk framing). */
    static void appendWritten(final BufferChain chain, final BufferAllocator allocator, final ByteBuffer scratch)
    {
        append(chain, allocator, scratch.array(), 0, scratch.position());
    }

    /**
     * Copies the body part that lies just before {@code v}'s position ({@code part} bytes, as a parser's
     * {@code BODY_PART} leaves it), chunk-framed if {@code chunked}, leaving {@code v} as it was.
     */
    static void appendPart(final BufferChain chain, final BufferAllocator allocator, final ByteBuffer v, final int part,
        final boolean chunked, final ByteBuffer framing)
    {
        if (chunked)
        {
            ChunkedEncoder.chunkHeader(framing.clear(), part);
            appendWritten(chain, allocator, framing);
        }
        final int end = v.position();
        final int limit = v.limit();
        v.position(end - part).limit(end);
        append(chain, allocator, v);
        v.limit(limit).position(end);
        if (chunked)
        {
            ChunkedEncoder.chunkEnd(framing.clear());
            appendWritten(chain, allocator, framing);
        }
    }

    /** Appends the last chunk ({@code 0 CRLF CRLF}) of a chunked body. */
    static void appendLastChunk(final BufferChain chain, final BufferAllocator allocator, final ByteBuffer framing)
    {
        ChunkedEncoder.lastChunk(framing.clear());
        appendWritten(chain, allocator, framing);
    }
}
