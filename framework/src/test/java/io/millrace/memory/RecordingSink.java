package io.millrace.memory;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * A gathering channel for tests: keeps what it is given, at most {@code budget} bytes per write (a
 * socket whose buffer is nearly full), counts the writes, and runs {@code before} at the start of
 * each (to interleave another thread's work with this one's write).
 */
final class RecordingSink implements GatheringByteChannel
{
    private final ByteArrayOutputStream out;
    private final int budget;
    private final Runnable before;
    int calls;

    RecordingSink(final int budget)
    {
        this(new ByteArrayOutputStream(), budget, () -> { });
    }

    RecordingSink(final ByteArrayOutputStream out, final int budget, final Runnable before)
    {
        this.out = out;
        this.budget = budget;
        this.before = before;
    }

    String text()
    {
        return out.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public long write(final ByteBuffer[] srcs, final int offset, final int length)
    {
        calls++;
        before.run();
        long left = budget;
        long written = 0;
        for (int i = offset; i < offset + length && left > 0; i++)
        {
            final ByteBuffer src = srcs[i];
            while (src.hasRemaining() && left > 0)
            {
                out.write(src.get());
                left--;
                written++;
            }
        }
        return written;
    }

    @Override
    public long write(final ByteBuffer[] srcs)
    {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public int write(final ByteBuffer src)
    {
        return (int)write(new ByteBuffer[] {src}, 0, 1);
    }

    @Override
    public boolean isOpen()
    {
        return true;
    }

    @Override
    public void close()
    {
    }
}
