package io.millrace.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A disk that loses power: segment channels opened through {@link #channels()} write through to the
 * real files (so the log reads what it wrote, as from the page cache), while the disk remembers per
 * file only what a force made durable. {@link #cut} stops the disk (every later write and force
 * fails), closes its channels and rewrites each file as the platter would hold it: the forced bytes,
 * plus, if asked, a random part of the unforced tail, some of it garbled (pages written back out of
 * order). Thread-safe: forces from a sync thread and a cut from the test thread are ordered by the
 * disk's monitor, so a force either completed before the cut (and counts) or fails.
 */
final class PowerCutDisk
{
    private final Map<Path, byte[]> durable = new HashMap<>();
    private final List<FileChannel> open = new ArrayList<>();
    private boolean dead;
    long forces;

    SegmentChannels channels()
    {
        return file ->
        {
            synchronized (this)
            {
                if (dead)
                {
                    throw new IOException("power is off");
                }
                final FileChannel real = SegmentChannels.FILES.open(file);
                durable.computeIfAbsent(file, f -> readAll(real));
                final FileChannel c = new Channel(file, real);
                open.add(c);
                return c;
            }
        };
    }

    private static byte[] readAll(final FileChannel c)
    {
        try
        {
            final ByteBuffer b = ByteBuffer.allocate((int) c.size());
            while (b.hasRemaining() && c.read(b, b.position()) >= 0)
            {
                // fill
            }
            return b.array();
        }
        catch (IOException e)
        {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private synchronized void force(final Path file, final FileChannel real) throws IOException
    {
        if (dead)
        {
            throw new IOException("power is off: the force did not happen");
        }
        real.force(false);
        durable.put(file, readAll(real));
        forces++;
    }

    private synchronized void checkAlive() throws IOException
    {
        if (dead)
        {
            throw new IOException("power is off");
        }
    }

    /**
     * Cuts the power and leaves every file as a disk would after it.
     *
     * @param random     where the unforced bytes go
     * @param keepUnforced whether a random prefix of each file's unforced bytes reached the platter
     *                   (with some of its 512-byte sectors zeroed or garbled); else only forced bytes survive
     */
    synchronized void cut(final Random random, final boolean keepUnforced) throws IOException
    {
        dead = true;
        final Map<Path, byte[]> current = new HashMap<>();
        for (final Path f : durable.keySet())
        {
            current.put(f, Files.exists(f) ? Files.readAllBytes(f) : null);
        }
        for (final FileChannel c : open)
        {
            ((Channel) c).real.close();
        }
        open.clear();
        for (final Map.Entry<Path, byte[]> e : durable.entrySet())
        {
            final byte[] now = current.get(e.getKey());
            if (now == null)
            {
                continue; // deleted by retention: a deleted name stays deleted in this model
            }
            byte[] image = e.getValue();
            if (keepUnforced && now.length > image.length && random.nextBoolean())
            {
                final int extra = random.nextInt(now.length - image.length + 1);
                final byte[] torn = java.util.Arrays.copyOf(image, image.length + extra);
                System.arraycopy(now, image.length, torn, image.length, extra);
                for (int sector = image.length / 512 + 1; sector * 512 < torn.length; sector++)
                {
                    final int r = random.nextInt(8);
                    if (r == 0)
                    {
                        java.util.Arrays.fill(torn, sector * 512, Math.min(torn.length, sector * 512 + 512), (byte) 0);
                    }
                    else if (r == 1)
                    {
                        torn[sector * 512 + random.nextInt(Math.min(512, torn.length - sector * 512))] ^= (byte) (1 + random.nextInt(255));
                    }
                }
                image = torn;
            }
            Files.write(e.getKey(), image);
        }
    }

    /** A channel writing through to the real file; forces go through the disk's bookkeeping. */
    private final class Channel extends DelegatingChannel
    {
        final Path file;

        Channel(final Path file, final FileChannel real)
        {
            super(real);
            this.file = file;
        }

        @Override
        public int write(final ByteBuffer src) throws IOException
        {
            checkAlive();
            return super.write(src);
        }

        @Override
        public long write(final ByteBuffer[] srcs, final int offset, final int length) throws IOException
        {
            checkAlive();
            return super.write(srcs, offset, length);
        }

        @Override
        public int write(final ByteBuffer src, final long position) throws IOException
        {
            checkAlive();
            return super.write(src, position);
        }

        @Override
        public FileChannel truncate(final long size) throws IOException
        {
            checkAlive();
            return super.truncate(size);
        }

        @Override
        public void force(final boolean metaData) throws IOException
        {
            PowerCutDisk.this.force(file, real);
        }
    }
}
