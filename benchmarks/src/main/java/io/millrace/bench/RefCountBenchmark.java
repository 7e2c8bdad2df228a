package io.millrace.bench;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What reference counting costs a buffer, on the thread that owns it and across threads.
 *
 * <ul>
 *   <li>{@code ownerRetainRelease}: {@code retain()} then {@code release()} of a live buffer, on the
 *       thread whose allocator made it (a second holder on the same worker, e.g. a cached body);</li>
 *   <li>{@code ownerAllocateRelease}: {@code allocate(40)}, put 40 bytes, {@code release()}: a small
 *       reply's whole life on its worker (the descriptor's count and its chunk's count);</li>
 *   <li>{@code ownerChunkAllocateRelease}: the same with {@code allocate()}, a whole chunk (a read buffer);</li>
 *   <li>group {@code handOff}: the owner allocates and hands each buffer to a second thread through a
 *       single-producer queue, which releases it there (a buffer that went to a blocking stage);
 *       the score is per thread, {@code handOff:owner} is the owner's allocate and offer,
 *       {@code handOff:releaser} the other's poll and release (a poll that finds nothing counts too).</li>
 * </ul>
 *
 * Leak detection is off, as for all but one buffer in 16,384 in production. Run with {@code -prof gc}:
 * every case allocates ~0 B/op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
public class RefCountBenchmark
{
    private static final byte[] REPLY = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** One thread's allocator and a buffer it keeps. */
    @State(Scope.Thread)
    public static class Owner
    {
        BufferAllocator allocator;
        BufferDescriptor kept;

        @Setup(Level.Trial)
        public void setUp()
        {
            allocator = SlabArena.builder().leakDetector(LeakDetector.disabled()).build().newAllocator("bench-owner");
            kept = allocator.allocate(64).put(REPLY);
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            kept.release();
        }
    }

    /** The owner's allocator and the queue to the releasing thread. */
    @State(Scope.Group)
    public static class HandOff
    {
        final OneToOneConcurrentArrayQueue<BufferDescriptor> queue = new OneToOneConcurrentArrayQueue<>(1024);
        BufferAllocator allocator;

        @Setup(Level.Trial)
        public void setUp()
        {
            // Owned by the first thread to allocate: the group's owner thread.
            allocator = SlabArena.builder().leakDetector(LeakDetector.disabled()).build().newAllocator("bench-handoff");
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            BufferDescriptor d;
            while ((d = queue.poll()) != null)
            {
                d.release();
            }
        }
    }

    @Benchmark
    public boolean ownerRetainRelease(final Owner o)
    {
        return o.kept.retain().release();
    }

    @Benchmark
    public boolean ownerAllocateRelease(final Owner o)
    {
        return o.allocator.allocate(REPLY.length).put(REPLY).release();
    }

    @Benchmark
    public boolean ownerChunkAllocateRelease(final Owner o)
    {
        return o.allocator.allocate().put(REPLY).release();
    }

    @Benchmark
    @Group("handOff")
    public boolean owner(final HandOff h)
    {
        final BufferDescriptor d = h.allocator.allocate(REPLY.length).put(REPLY);
        if (h.queue.offer(d))
        {
            return true;
        }
        // The releaser is behind (or JMH has stopped it at the end of an iteration): keep the owner going.
        return d.release();
    }

    @Benchmark
    @Group("handOff")
    public boolean releaser(final HandOff h)
    {
        final BufferDescriptor d = h.queue.poll();
        return d != null && d.release();
    }
}
