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
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link RefCounted}'s biased count on a real {@link Chunk} with a real {@link MergeQueue}: the owner
 * actor counts in its plain {@code local}, the other actor in the CAS'd shared word, and the hand-over
 * between them (the owner's count reaching zero while the other holds a share, the other dropping
 * the owner's count, the last release on the other thread) must deallocate exactly once, on the
 * owner's drain or at once on the owner, never early. The arbiter drains the merge queue as the
 * owner's next allocation or idle turn would. Deallocations are counted by the chunk's home pool's
 * reset hook (the pool is owned by nobody, so the reset runs on whichever thread deallocated).
 */
public final class BiasedRefCountStress
{
    private BiasedRefCountStress()
    {
    }

    /** A biased chunk, its owner's merge queue, its home pool and a deallocation counter. */
    abstract static class BiasedChunk
    {
        private static final VarHandle DEALLOCS;

        static
        {
            try
            {
                DEALLOCS = MethodHandles.lookup().findVarHandle(BiasedChunk.class, "deallocs", int.class);
            }
            catch (final ReflectiveOperationException ex)
            {
                throw new ExceptionInInitializerError(ex);
            }
        }

        final Chunk chunk = new Chunk(ByteBuffer.allocate(64), 0, 0);
        final MergeQueue queue = new MergeQueue("jcstress");
        @SuppressWarnings("unused")
        private volatile int deallocs;

        BiasedChunk()
        {
            chunk.home = LookasidePool.<Chunk>builder("jcstress-chunks", () ->
                {
                    throw new IllegalStateException("not used");
                })
                .maxIdle(2)
                .returnQueueCapacity(2)
                .reset(c -> DEALLOCS.getAndAdd(this, 1))
                .owner(PoolOwner.NOBODY)
                .build();
            chunk.initRefCnt(queue);            // owned by the state's thread, count 1, until an actor takes over
        }

        /**
         * The end of every state's constructor: jcstress may build a state on an actor's thread, and
         * then the other actor could still see itself as the owner (a stale read of a field that, in
         * a server, never changes while the object is live). So the state leaves the chunk to nobody,
         * and the owner actor takes it over.
         */
        void leaveToNobody()
        {
            RefOwner.disown(chunk);
        }

        int deallocs()
        {
            return deallocs;
        }

        /** The owner's next drain, then the outcome: deallocations and the count. */
        void settle(final IIII_Result r)
        {
            queue.drain();
            r.r3 = deallocs();
            r.r4 = chunk.refCnt();
        }
    }

    @JCStressTest
    @Description("The owner holds two counts in its local count, one of them handed to the other thread. Both " +
        "release theirs at once. Result: (the owner's release said last, the other's said last, deallocations " +
        "after the owner's drain, final count). Exactly one deallocation; at most one release can tell it was the " +
        "last (the other thread may not see the owner's count drop, and then leaves it to the owner's drain).")
    @Outcome(id = "1, 0, 1, 0", expect = ACCEPTABLE, desc = "the other went first (shared -1, queued); the owner's was the last")
    @Outcome(id = "0, 1, 1, 0", expect = ACCEPTABLE, desc = "the other saw the owner's count drop to 1: it knew it was the last")
    @Outcome(id = "0, 0, 1, 0", expect = ACCEPTABLE_INTERESTING,
        desc = "the other read the owner's count before it dropped; the owner's drain found nothing left")
    @Outcome(expect = FORBIDDEN, desc = "no or two deallocations, two last releases, or a count left over")
    @State
    public static class OwnerReleaseVsForeignRelease extends BiasedChunk
    {
        public OwnerReleaseVsForeignRelease()
        {
            chunk.retainOnce();                 // local 2: the second count is the other actor's
            leaveToNobody();
        }

        @Actor
        public void owner(final IIII_Result r)
        {
            RefOwner.takeOver(chunk);
            r.r1 = chunk.release() ? 1 : 0;
        }

        @Actor
        public void other(final IIII_Result r)
        {
            r.r2 = chunk.release() ? 1 : 0;
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            settle(r);
        }
    }

    @JCStressTest
    @Description("The owner holds one count (local 1); the other thread retained one of its own (shared 1). Both " +
        "release at once: the owner's count reaches zero while the other may still hold a share, so the owner " +
        "merges (the shared count becomes the whole count), or finds the share gone and deallocates. Result: (the " +
        "owner's release said last, the other's said last, deallocations after the drain, final count).")
    @Outcome(id = "1, 0, 1, 0", expect = ACCEPTABLE, desc = "the other's share went first; the owner's release was the last, deallocated at once")
    @Outcome(id = "0, 1, 1, 0", expect = ACCEPTABLE, desc = "the owner merged first; the other's release was the last, settled by the drain")
    @Outcome(expect = FORBIDDEN, desc = "no or two deallocations, not exactly one last release, or a count left over")
    @State
    public static class OwnerMergeVsForeignRelease extends BiasedChunk
    {
        public OwnerMergeVsForeignRelease()
        {
            leaveToNobody();
            chunk.retainOnce();                 // on the shared path: shared 1
        }

        @Actor
        public void owner(final IIII_Result r)
        {
            RefOwner.takeOver(chunk);
            r.r1 = chunk.release() ? 1 : 0;
        }

        @Actor
        public void other(final IIII_Result r)
        {
            r.r2 = chunk.release() ? 1 : 0;
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            settle(r);
        }
    }

    @JCStressTest
    @Description("Both hold a count in the owner's local count (2). Each retains and releases once more, then " +
        "releases its own. Result: (the owner's releases that said last, the other's, deallocations after the " +
        "drain, final count). Exactly one deallocation, never while either still held a count.")
    @Outcome(id = "1, 0, 1, 0", expect = ACCEPTABLE, desc = "the owner's release was the last")
    @Outcome(id = "0, 1, 1, 0", expect = ACCEPTABLE, desc = "the other's release was the last, and it could tell")
    @Outcome(id = "0, 0, 1, 0", expect = ACCEPTABLE_INTERESTING, desc = "the other's was the last and left it to the drain")
    @Outcome(expect = FORBIDDEN, desc = "no or two deallocations, two last releases, or a count left over")
    @State
    public static class RetainReleaseOnBothSides extends BiasedChunk
    {
        public RetainReleaseOnBothSides()
        {
            chunk.retainOnce();
            leaveToNobody();
        }

        @Actor
        public void owner(final IIII_Result r)
        {
            RefOwner.takeOver(chunk);
            chunk.retainOnce();
            int last = chunk.release() ? 1 : 0;
            last += chunk.release() ? 1 : 0;
            r.r1 = last;
        }

        @Actor
        public void other(final IIII_Result r)
        {
            chunk.retainOnce();
            int last = chunk.release() ? 1 : 0;
            last += chunk.release() ? 1 : 0;
            r.r2 = last;
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            settle(r);
        }
    }

    @JCStressTest
    @Description("The owner releases its only count while a stale holder on another thread retains. Result: (the " +
        "owner's release said last, the retain succeeded, deallocations after the drain, final count). The retain " +
        "came first (the owner's count reaches zero and merges; count 1, nothing freed), or the owner freed the " +
        "chunk and the retain threw.")
    @Outcome(id = "0, 1, 0, 1", expect = ACCEPTABLE, desc = "retain first: the owner merged, the stale holder keeps it alive")
    @Outcome(id = "1, 0, 1, 0", expect = ACCEPTABLE, desc = "release first: freed once, the late retain threw")
    @Outcome(id = "1, 1, 1, 0", expect = ACCEPTABLE_INTERESTING, desc = "the documented blind spot: the owner's last " +
        "release is a plain store, so a retain racing it within nanoseconds (a bug: the holder has no reference) can be " +
        "overwritten; that holder's next use or release throws")
    @Outcome(expect = FORBIDDEN, desc = "freed twice, a retain that neither threw nor kept the chunk alive otherwise")
    @State
    public static class StaleRetainVsOwnersLastRelease extends BiasedChunk
    {
        public StaleRetainVsOwnersLastRelease()
        {
            leaveToNobody();
        }

        @Actor
        public void owner(final IIII_Result r)
        {
            RefOwner.takeOver(chunk);
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
            settle(r);
        }
    }

    @JCStressTest
    @Description("The owner allocated the chunk, wrote 'A' at 0 and handed its only count to the other thread, " +
        "which reads byte 0 and releases. The owner drains its merge queue once; if that deallocated the chunk, it " +
        "reuses it and writes 'B' at 0. Result: (byte the other read, the owner reused it, deallocations after " +
        "the arbiter's drain, final count). The other's read happens before the owner's reuse: never 'B'.")
    @Outcome(id = "65, 1, 1, 0", expect = ACCEPTABLE, desc = "released before the owner's drain: deallocated there, then reused")
    @Outcome(id = "65, 0, 1, 0", expect = ACCEPTABLE, desc = "released after the owner's drain: the arbiter's drain deallocated it")
    @Outcome(expect = FORBIDDEN, desc = "the releaser read the owner's new byte, or a deallocation went wrong")
    @State
    public static class ForeignLastReleaseHandsBytesToOwner extends BiasedChunk
    {
        public ForeignLastReleaseHandsBytesToOwner()
        {
            chunk.memory.put(0, (byte)'A');
            leaveToNobody();
        }

        @Actor
        public void other(final IIII_Result r)
        {
            r.r1 = chunk.memory.get(0);
            chunk.release();
        }

        @Actor
        public void owner(final IIII_Result r)
        {
            RefOwner.takeOver(chunk);
            queue.drain();
            if (deallocs() == 1)
            {
                chunk.memory.put(0, (byte)'B');
                r.r2 = 1;
            }
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            settle(r);
        }
    }
}
