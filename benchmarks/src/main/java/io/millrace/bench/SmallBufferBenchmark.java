package io.millrace.bench;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
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

import java.util.concurrent.TimeUnit;

/**
 * A 40-byte reply in a pooled buffer: {@code allocate(40)} (a 64-byte slot of a shared chunk) vs
 * {@code allocate()} (a whole 16 KiB chunk), filled with {@code putAscii}. {@code live} replies are
 * held at once, in a ring, and each operation releases the oldest: with 1, every reply is released
 * before the next is taken, so the shared chunk is carved again in place; with 300, more than a
 * chunk's 256 slots are out at any time, so the allocator keeps leaving full chunks to their buffers
 * and taking the next from its pool. Both must allocate nothing (run with {@code -prof gc}: ~0 B/op).
 * Leak detection is off, as for all but one buffer in 16,384 in production.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class SmallBufferBenchmark
{
    private static final String REPLY = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    @Param({"1", "300"})
    public int live;

    private BufferAllocator allocator;
    private BufferDescriptor[] window;
    private int next;

    @Setup(Level.Trial)
    public void setUp()
    {
        allocator = SlabArena.builder().leakDetector(LeakDetector.disabled()).build().newAllocator("bench");
        window = new BufferDescriptor[live];
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        for (final BufferDescriptor d : window)
        {
            if (d != null)
            {
                d.release();
            }
        }
    }

    @Benchmark
    public long small()
    {
        return keep(allocator.allocate(REPLY.length()).putAscii(REPLY));
    }

    @Benchmark
    public long wholeChunk()
    {
        return keep(allocator.allocate().putAscii(REPLY));
    }

    private long keep(final BufferDescriptor d)
    {
        final int i = next;
        next = i + 1 == window.length ? 0 : i + 1;
        final BufferDescriptor oldest = window[i];
        window[i] = d;
        if (oldest != null)
        {
            oldest.release();
        }
        return d.readableBuffer().get(d.readableBuffer().limit() - 1) + d.length();
    }
}
