package io.millrace.http;

import io.millrace.memory.FileRegionOwner;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * What {@link StaticFileHandler#handle} decided for one request: the status, the header lines to add,
 * and for 200 and 206 the file region to send. Mutable and reused: make one per worker (or per
 * in-flight exchange) and pass it to every call, so that answering allocates nothing.
 *
 * <p>The caller writes the status line, {@code Date}, {@code Content-Length: }{@link #contentLength()}
 * (none when it is -1), its own {@code Connection} field and then {@link #headerBytes()} verbatim:
 * they hold {@code Content-Type}, {@code Last-Modified}, {@code Accept-Ranges} and
 * {@code Content-Range} as the status needs, so the caller adds no Content-Type of its own. Then,
 * for a GET with {@link #hasBody()}, it sends the region with
 * {@code connection.sendFile(head, channel(), bodyOffset(), bodyLength(), takeRegionOwner())}, or
 * when {@link #memory()} is not null appends {@code allocator.wrap(memory(), ...)} to the head; for
 * HEAD, or to drop the response, it calls {@link #clear()}. For 400, 403, 404 and 500 nothing is
 * set but the status: the caller answers with its own error body.
 *
 * <p>While {@link #hasBody()} is true the result holds the entry, so its channel stays open even if
 * the cache evicts the entry before the response is sent; {@link #takeRegionOwner()} hands that hold
 * to the connection, {@link #clear()} (and the next {@code handle}) gives it up.
 */
public final class StaticFileResult
{
    private static final int HEADER_CAPACITY = 512;

    int status;
    /** The entry held for the body, until handed to the connection or cleared. */
    private CachedFile entry;
    /** The entry answered from, held or not: only its immutable facts are read through it. */
    private CachedFile answered;
    long bodyOffset;
    long bodyLength;
    long contentLength = -1;
    final byte[] headers = new byte[HEADER_CAPACITY];
    int headersLength;
    /** Scratch for the range parser: first and last position. */
    final long[] range = new long[2];
    /** For a path passed as bytes. */
    final AsciiView pathView = new AsciiView();

    /**
     * @return 200, 206, 304, 400, 403, 404, 416 or 500
     */
    public int status()
    {
        return status;
    }

    /**
     * @return whether there is a file region to send for a GET (200 or 206 with at least one byte)
     */
    public boolean hasBody()
    {
        return entry != null;
    }

    /**
     * @return the Content-Length to send: the body's length for 200 and 206, 0 for 416, -1 (no
     *         field) for 304 and the errors
     */
    public long contentLength()
    {
        return contentLength;
    }

    /**
     * @return the channel to send from, while {@link #hasBody()}; the cache owns it, never close it
     */
    public FileChannel channel()
    {
        return entry == null ? null : entry.channel();
    }

    /**
     * @return while {@link #hasBody()}, the file's bytes if the cache holds them in memory (a small
     *         file; see {@link OpenFileCacheBuilder#memory}), else null: send the body from it with
     *         {@code BufferAllocator.wrap(memory(), (int)bodyOffset(), (int)bodyLength(), takeRegionOwner())}
     *         in the head's chain, one {@code writev} for both, instead of {@code sendFile}. Read-only;
     *         the cache keeps it unchanged while the result or a descriptor made from it holds the entry.
     */
    public ByteBuffer memory()
    {
        return entry == null ? null : entry.memory();
    }

    /**
     * @return where the body starts in the file
     */
    public long bodyOffset()
    {
        return bodyOffset;
    }

    /**
     * @return bytes of body to send
     */
    public long bodyLength()
    {
        return bodyLength;
    }

    /**
     * @return the cache entry behind a 200, 206, 304 or 416, for logging or a media type; null for
     *         the errors. Its channel is only the result's to use while {@link #hasBody()}.
     */
    public CachedFile cachedFile()
    {
        return answered;
    }

    /**
     * @return the header lines to add, each ending in CRLF, in the first {@link #headerLength()}
     *         bytes; the array is the result's own and is overwritten by the next call
     */
    public byte[] headerBytes()
    {
        return headers;
    }

    /**
     * @return how many bytes of {@link #headerBytes()} are header lines
     */
    public int headerLength()
    {
        return headersLength;
    }

    /**
     * Copies the header lines into {@code dst}.
     *
     * @param dst where to put them; its position advances
     * @throws java.nio.BufferOverflowException if they do not fit
     */
    public void writeHeaders(final ByteBuffer dst)
    {
        dst.put(headers, 0, headersLength);
    }

    /**
     * Hands the result's hold on the entry to whoever sends the region: pass the return value to
     * {@code Connection.sendFile(head, channel(), bodyOffset(), bodyLength(), owner)}, which tells it
     * once the region is sent or dropped. Read {@link #channel()} first: afterwards the result is clear
     * of the entry.
     *
     * @return the owner to tell, never null
     * @throws IllegalStateException if there is no body
     */
    public FileRegionOwner takeRegionOwner()
    {
        final CachedFile e = entry;
        if (e == null)
        {
            throw new IllegalStateException("no file region to send for status " + status + ": check hasBody() first");
        }
        entry = null;
        return e;
    }

    /**
     * Gives up the hold on the entry, if any, and forgets the answer: for HEAD, or a response that
     * will not be sent. Idempotent; {@link StaticFileHandler#handle} calls it first.
     */
    public void clear()
    {
        final CachedFile e = entry;
        entry = null;
        answered = null;
        if (e != null)
        {
            e.regionSent();
        }
        status = 0;
        bodyOffset = 0;
        bodyLength = 0;
        contentLength = -1;
        headersLength = 0;
    }

    void answer(final int code, final CachedFile e)
    {
        status = code;
        answered = e;
    }

    /** Holds {@code e} as the body's file; with a length of 0 there is nothing to hold it for. */
    void body(final CachedFile e, final long offset, final long length)
    {
        bodyOffset = offset;
        bodyLength = length;
        contentLength = length;
        if (length > 0)
        {
            e.retain();
            entry = e;
        }
    }

    void append(final byte[] line)
    {
        System.arraycopy(line, 0, headers, headersLength, line.length);
        headersLength += line.length;
    }

    void append(final String ascii)
    {
        for (int i = 0; i < ascii.length(); i++)
        {
            headers[headersLength++] = (byte)ascii.charAt(i);
        }
    }

    void append(final long value)
    {
        long divisor = 1;
        while (value / divisor >= 10)
        {
            divisor *= 10;
        }
        for (; divisor > 0; divisor /= 10)
        {
            headers[headersLength++] = (byte)('0' + value / divisor % 10);
        }
    }
}
