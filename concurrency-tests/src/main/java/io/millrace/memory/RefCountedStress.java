package io.millrace.memory;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link RefCounted}'s count, on a real {@link Chunk}: its {@code deallocate()} gives the chunk back
 * to its home pool, whose reset hook counts the deallocations. The pool is owned by nobody, so
 * every deallocation takes the cross-thread return path.
 */
public final class RefCountedStress
{
    private RefCountedStress()
    {
    }

    /** A chunk with its home pool and a deallocation counter. */
    abstract static class ChunkState
    {
        private static final VarHandle DEALLOCS;

        static
        {
            try
            {
                DEALLOCS = MethodHandles.lookup().findVarHandle(ChunkState.class, "deallocs", int.class);
            }
            catch (final ReflectiveOperationException ex)
            {
                throw new ExceptionInInitializerError(ex);
            }
        }

        final Chunk chunk = new Chunk(ByteBuffer.allocate(64), 0, 0);
        @SuppressWarnings("unused")
        private volatile int deallocs;

        ChunkState()
        {
            final LookasidePool<Chunk> home = LookasidePool.<Chunk>builder("jcstress-chunks", () ->
                {
                    throw new IllegalStateException("not used");
                })
                .maxIdle(2)
                .returnQueueCapacity(2)
                .reset(c -> DEALLOCS.getAndAdd(this, 1))
                .owner(PoolOwner.NOBODY)
                .build();
            chunk.home = home;
            chunk.initRefCnt();
        }

        int deallocs()
        {
            return deallocs;
        }
    }

    @JCStressTest
    @Description("Two holders (count 2); holder 1 also retains once more and releases twice, holder 2 releases " +
        "once. Result: (holder 1's releases that reached zero, holder 2's, deallocations, final count). Exactly " +
        "one release reaches zero and deallocates, once; the count ends at zero, never below.")
    @Outcome(id = {"1, 0, 1, 0", "0, 1, 1, 0"}, expect = ACCEPTABLE, desc = "one last release, one deallocation")
    @Outcome(expect = FORBIDDEN, desc = "no or two last releases, a double free, or a count other than zero")
    @State
    public static class ConcurrentReleases extends ChunkState
    {
        public ConcurrentReleases()
        {
            chunk.retainOnce(); // the second holder
        }

        @Actor
        public void holder1(final IIII_Result r)
        {
            chunk.retainOnce();
            int last = chunk.release() ? 1 : 0;
            last += chunk.release() ? 1 : 0;
            r.r1 = last;
        }

        @Actor
        public void holder2(final IIII_Result r)
        {
            r.r2 = chunk.release() ? 1 : 0;
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            r.r3 = deallocs();
            r.r4 = chunk.refCnt();
        }
    }

    @JCStressTest
    @Description("One holder releases its (last) reference while a stale holder tries to retain. Result: (the " +
        "release reached zero, the retain succeeded, deallocations, final count). Either the retain came first " +
        "(count 2 then 1, nothing freed) or the release freed the chunk and the retain threw: a freed object is " +
        "never brought back.")
    @Outcome(id = "0, 1, 0, 1", expect = ACCEPTABLE, desc = "retain first: the release was not the last")
    @Outcome(id = "1, 0, 1, 0", expect = ACCEPTABLE, desc = "release first: freed once; the late retain threw")
    @Outcome(expect = FORBIDDEN, desc = "a freed chunk revived, freed twice, or a wrong count")
    @State
    public static class RetainVsLastRelease extends ChunkState
    {
        @Actor
        public void holder(final IIII_Result r)
        {
            r.r1 = chunk.release() ? 1 : 0;
        }

        @Actor
        public void staleHolder(final IIII_Result r)
        {
            try
            {
                chunk.retainOnce();
                r.r2 = 1;
            }
            catch (final IllegalReferenceCountException ex)
            {
                r.r2 = 0;
            }
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            r.r3 = deallocs();
            r.r4 = chunk.refCnt();
        }
    }
}
