package io.millrace.bench;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Building a response from three 4 KiB segments that are already in direct memory (a cached
 * header block, a body, a trailer) and writing it out, four ways:
 *
 * <ul>
 * <li>{@code chain}: a Millrace {@link BufferChain} of three slices (no byte copied; the chunks'
 *     counts go up) and one gathering write;</li>
 * <li>{@code copyIntoNewArray}: copy the segments into a new 12 KiB {@code byte[]} and write it
 *     (what code that builds a byte array per response does; NIO copies a heap buffer once more
 *     into a temporary direct buffer for a real channel);</li>
 * <li>{@code copyIntoReusedDirectBuffer}: copy into one preallocated direct buffer and write it
 *     (copying done as cheaply as it can be);</li>
 * <li>{@code nettyComposite}: a Netty {@link CompositeByteBuf} of three retained slices of pooled
 *     direct buffers, written with its {@code nioBuffers()}, as Netty's NIO transport does.</li>
 * </ul>
 *
 * The target is {@code sink}, a channel that takes the buffers without copying them (it reads one
 * byte of each and moves its position: the cost of building and consuming the response, without
 * a syscall), or {@code devnull}, a {@link FileChannel} on {@code /dev/null} (a real gathering
 * write syscall). Leak detection is off on both sides, as it is for 127 of 128 buffers in
 * production. Run with {@code -prof gc} for bytes allocated per op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class ChainWriteBenchmark
{
    private static final int SEGMENT = 4096;
    private static final int SEGMENTS = 3;

    @Param({"sink", "devnull"})
    public String target;

    private GatheringByteChannel out;
    private SlabArena arena;
    private BufferAllocator allocator;
    private final BufferDescriptor[] segments = new BufferDescriptor[SEGMENTS];
    private final ByteBuffer[] directSegments = new ByteBuffer[SEGMENTS];
    private final ByteBuf[] nettySegments = new ByteBuf[SEGMENTS];
    private ByteBuffer reused;

    @Setup(Level.Trial)
    public void setUp() throws IOException
    {
        out = "devnull".equals(target) ? FileChannel.open(Path.of("/dev/null"), StandardOpenOption.WRITE) : new SinkChannel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        arena = SlabArena.builder().chunkSize(SEGMENT).slabSize(64 * SEGMENT).leakDetector(LeakDetector.disabled()).build();
        allocator = arena.newAllocator("bench");
        final SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < SEGMENTS; i++)
        {
            final byte[] bytes = new byte[SEGMENT];
            random.nextBytes(bytes);
            segments[i] = allocator.allocate();
            segments[i].put(ByteBuffer.wrap(bytes));
            directSegments[i] = ByteBuffer.allocateDirect(SEGMENT).put(bytes).flip();
            nettySegments[i] = PooledByteBufAllocator.DEFAULT.directBuffer(SEGMENT).writeBytes(bytes);
        }
        reused = ByteBuffer.allocateDirect(SEGMENTS * SEGMENT);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException
    {
        for (int i = 0; i < SEGMENTS; i++)
        {
            segments[i].release();
            nettySegments[i].release();
        }
        out.close();
    }

    @Benchmark
    public long chain() throws IOException
    {
        final BufferAllocator alloc = allocator;
        final BufferChain response = alloc.newChain();
        for (final BufferDescriptor segment : segments)
        {
            response.append(alloc.slice(segment));
        }
        long written = 0;
        while (!response.isEmpty())
        {
            written += response.writeTo(out);
        }
        response.release();
        return written;
    }

    @Benchmark
    public long copyIntoNewArray() throws IOException
    {
        final byte[] response = new byte[SEGMENTS * SEGMENT];
        for (int i = 0; i < SEGMENTS; i++)
        {
            directSegments[i].get(0, response, i * SEGMENT, SEGMENT);
        }
        final ByteBuffer buffer = ByteBuffer.wrap(response);
        long written = 0;
        while (buffer.hasRemaining())
        {
            written += out.write(buffer);
        }
        return written;
    }

    @Benchmark
    public long copyIntoReusedDirectBuffer() throws IOException
    {
        final ByteBuffer response = reused.clear();
        for (int i = 0; i < SEGMENTS; i++)
        {
            response.put(response.position(), directSegments[i], 0, SEGMENT);
            response.position(response.position() + SEGMENT);
        }
        response.flip();
        long written = 0;
        while (response.hasRemaining())
        {
            written += out.write(response);
        }
        return written;
    }

    @Benchmark
    public long nettyComposite() throws IOException
    {
        final CompositeByteBuf response = PooledByteBufAllocator.DEFAULT.compositeDirectBuffer(SEGMENTS);
        for (final ByteBuf segment : nettySegments)
        {
            response.addComponent(true, segment.retainedSlice());
        }
        final ByteBuffer[] nio = response.nioBuffers();
        long left = response.readableBytes();
        long written = 0;
        while (left > 0)
        {
            final long n = out.write(nio);
            left -= n;
            written += n;
        }
        response.skipBytes((int)written);
        response.release();
        return written;
    }

    /** Takes whatever it is given without copying: reads one byte per buffer and moves its position. */
    static final class SinkChannel implements GatheringByteChannel
    {
        long checksum;

        @Override
        public long write(final ByteBuffer[] srcs, final int offset, final int length)
        {
            long n = 0;
            for (int i = offset; i < offset + length; i++)
            {
                final ByteBuffer b = srcs[i];
                final int r = b.remaining();
                if (r > 0)
                {
                    checksum += b.get(b.limit() - 1);
                    b.position(b.limit());
                    n += r;
                }
            }
            return n;
        }

        @Override
        public long write(final ByteBuffer[] srcs)
        {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(final ByteBuffer src)
        {
            final int r = src.remaining();
            if (r > 0)
            {
                checksum += src.get(src.limit() - 1);
                src.position(src.limit());
            }
            return r;
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
}
