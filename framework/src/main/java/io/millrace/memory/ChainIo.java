package io.millrace.memory;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ScatteringByteChannel;

/**
 * The I/O behind {@link BufferChain#writeTo} and {@link BufferChain#readFrom}: one gathering or
 * scattering call per run of memory descriptors, through the chain's own scratch array of views,
 * so that neither allocates. The chain has checked that its caller holds it alone.
 *
 * <p>Threading: runs on the thread that holds the chain; touches nothing shared but the
 * descriptors' reference counts (when written descriptors are released).
 */
final class ChainIo
{
    private ChainIo()
    {
    }

    /**
     * Writes until the chain is empty or the channel takes less than it is offered; fully written
     * descriptors are released, a partly written one keeps its rest. See {@link BufferChain#writeTo}.
     */
    static long write(final BufferChain chain, final GatheringByteChannel out) throws IOException
    {
        final ByteBuffer[] iov = chain.iov;
        long total = 0;
        BufferDescriptor first;
        while ((first = chain.head) != null)
        {
            if (first.file != null)
            {
                final long remaining = first.rawLength();
                final long position = first.rawOffset();
                final long n = remaining == 0 ? 0 : first.file.transferTo(position, remaining, out);
                if (n > 0)
                {
                    first.advance(n);
                    total += n;
                }
                if (n == remaining)
                {
                    chain.releaseHead(first);
                    continue;
                }
                if (n == 0 && position >= first.file.size())
                {
                    throw new EOFException(first.describe() + " extends past the end of its file (size " + first.file.size() +
                        ", region at " + position + " with " + remaining + " bytes left)");
                }
                return total;
            }
            int count = 0;
            long offered = 0;
            for (BufferDescriptor d = first; d != null && d.file == null && count < BufferChain.MAX_IOV; d = d.next)
            {
                final ByteBuffer shared = d.sharedView();
                if (shared != null && listed(iov, count, shared))
                {
                    // Lent memory shares one view per buffer: a second entry for it would move the
                    // first's position and limit, so this batch ends before it (a pipelined
                    // connection sending one small file twice).
                    break;
                }
                iov[count++] = d.readableView();
                offered += d.rawLength();
            }
            final long n;
            try
            {
                n = offered == 0 ? 0 : out.write(iov, 0, count);
            }
            finally
            {
                chain.clearIov(count);
            }
            // Consume n bytes from the front: whole descriptors are released, a partial one advances.
            long left = n;
            for (int i = 0; i < count; i++)
            {
                final BufferDescriptor d = chain.head;
                final long length = d.rawLength();
                if (left < length)
                {
                    d.advance(left);
                    break;
                }
                left -= length;
                chain.releaseHead(d);
            }
            total += n;
            if (n < offered)
            {
                return total;
            }
        }
        return total;
    }

    private static boolean listed(final ByteBuffer[] iov, final int count, final ByteBuffer view)
    {
        for (int i = 0; i < count; i++)
        {
            if (iov[i] == view)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * One scattering read into the room left in the last descriptor and then fresh descriptors,
     * which are appended; the fresh ones that received nothing are released. See
     * {@link BufferChain#readFrom}.
     */
    static long read(final BufferChain chain, final ScatteringByteChannel in, final BufferAllocator allocator,
        final int maxBytes) throws IOException
    {
        final ByteBuffer[] iov = chain.iov;
        final BufferDescriptor before = chain.tail;
        BufferDescriptor firstTarget = null;
        int count = 0;
        long room = 0;
        if (before != null && before.file == null && before.writableBytes() > 0)
        {
            final int w = Math.min(before.writableBytes(), maxBytes);
            iov[count++] = before.writableView(w);
            room = w;
            firstTarget = before;
        }
        long n = 0;
        try
        {
            while (room < maxBytes && count < BufferChain.MAX_IOV)
            {
                final BufferDescriptor fresh;
                try
                {
                    fresh = allocator.allocate();
                }
                catch (final SlabExhaustedException ex)
                {
                    if (room == 0)
                    {
                        throw ex;
                    }
                    break;      // read into the room there is
                }
                chain.append(fresh);
                final int w = (int)Math.min(fresh.writableBytes(), maxBytes - room);
                iov[count++] = fresh.writableView(w);
                room += w;
                if (firstTarget == null)
                {
                    firstTarget = fresh;
                }
            }
            n = in.read(iov, 0, count);
            if (n > 0)
            {
                for (BufferDescriptor d = firstTarget; d != null; d = d.next)
                {
                    d.commitRead();
                }
            }
        }
        finally
        {
            chain.clearIov(count);
            // Fresh descriptors that got nothing (all of them after an error or end of stream) go back.
            while (chain.tail != before && chain.tail.rawLength() == 0)
            {
                chain.releaseTail();
            }
        }
        return n;
    }
}
