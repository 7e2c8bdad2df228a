package io.millrace.memory;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.nio.ByteBuffer;
import java.time.Duration;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link SizeClasses}' in-place recycling, the hand-off of a small buffer's bytes from the thread
 * that releases the last buffer carved from a chunk to the owner that carves the chunk again: the
 * owner may start over at offset 0 only once it sees the chunk's count back at 1, and then its
 * writes must come after the releaser's last reads of those bytes.
 */
@JCStressTest
@Description("A 128-byte chunk, two 64-byte slots. The state carved slot 0 and wrote 'A' in it; the releaser " +
    "reads that byte and releases the buffer while the owner carves the next small buffer and writes 'B' in it. " +
    "Result: (byte the releaser read, offset the owner got, the chunk's final count).")
@Outcome(id = "65, 64, 1", expect = ACCEPTABLE, desc = "the owner carved first: slot 1, slot 0 still in use")
@Outcome(id = "65, 0, 1", expect = ACCEPTABLE, desc = "the release came first: the chunk was carved again from 0")
@Outcome(expect = FORBIDDEN, desc = "the owner overwrote bytes still being read, or a count went wrong")
@State
public class SmallBufferRecycleStress
{
    private final LookasidePool<Chunk> chunks = LookasidePool.<Chunk>builder("jcstress-small",
            () -> new Chunk(ByteBuffer.allocate(128), 0, 0))
        .maxIdle(2).returnQueueCapacity(2).owner(PoolOwner.NOBODY).build();
    private final SizeClasses small = new SizeClasses(chunks, null, 128, Duration.ofHours(1).toNanos());
    private final Chunk chunk;

    public SmallBufferRecycleStress()
    {
        PoolOwner.takeOver(chunks);
        final int offset = small.claim(0);      // the buffer the releaser holds: slot 0
        chunk = small.chunk(0);
        chunk.memory.put(offset, (byte)'A');
        PoolOwner.disown(chunks);
    }

    @Actor
    public void releaser(final III_Result r)
    {
        r.r1 = chunk.memory.get(0);
        chunk.release();
    }

    @Actor
    public void owner(final III_Result r)
    {
        PoolOwner.takeOver(chunks);
        final int offset = small.claim(0);
        small.chunk(0).memory.put(offset, (byte)'B');
        r.r2 = offset;
        small.chunk(0).release();               // that buffer's release, on the owner
    }

    @Arbiter
    public void arbiter(final III_Result r)
    {
        r.r3 = chunk.refCnt();
    }
}
