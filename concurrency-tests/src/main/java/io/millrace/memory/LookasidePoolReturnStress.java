package io.millrace.memory;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link LookasidePool}'s cross-thread return: a release on a thread other than the owner goes
 * through the MPSC return queue and reaches the owner on its next miss (or drain). Ownership is
 * moved between jcstress's threads with {@link PoolOwner}.
 */
public final class LookasidePoolReturnStress
{
    private LookasidePoolReturnStress()
    {
    }

    /** A pooled object that shows whether its reset, run by the releasing thread, is visible. */
    static final class Item
    {
        /** Written by the reset hook on the releasing thread, plain; read by whoever acquires it. */
        int resets;
    }

    @JCStressTest
    @Description("The owner acquired x and handed it to another thread. That thread releases x (reset hook, then " +
        "the return queue) while the owner acquires twice. Afterwards the arbiter, as owner, drains the returns and " +
        "empties the pool. Result: (which of the owner's acquires got x: 0 none / 1 / 2, x's reset visible to the " +
        "owner: 1 yes / 0 no / -1 not handed out, copies of x left in the pool, the owner's two objects distinct). " +
        "x comes back exactly once: never lost, never handed out twice, its reset travels with it.")
    @Outcome(id = "1, 1, 0, 1", expect = ACCEPTABLE, desc = "the owner's first acquire missed, drained x and took it")
    @Outcome(id = "2, 1, 0, 1", expect = ACCEPTABLE,
        desc = "x was not queued yet at the first acquire (a new object); the second drained x")
    @Outcome(id = "0, -1, 1, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "x was queued after both acquires; it waited in the return queue for the next drain")
    @Outcome(id = "., 0, .*", expect = FORBIDDEN, desc = "x reached the owner without the reset its releaser did")
    @Outcome(expect = FORBIDDEN, desc = "x lost, handed out twice, or left in the pool twice")
    @State
    public static class ForeignReleaseVsOwnerAcquire
    {
        final LookasidePool<Item> pool = LookasidePool.builder("jcstress", Item::new)
            .maxIdle(4)
            .returnQueueCapacity(2)
            .reset(item -> item.resets++)
            .owner(Thread.currentThread())
            .build();
        final Item x;

        public ForeignReleaseVsOwnerAcquire()
        {
            x = pool.acquire(); // a miss: a new object, out of the pool
            PoolOwner.disown(pool);
        }

        @Actor
        public void owner(final IIII_Result r)
        {
            PoolOwner.takeOver(pool);
            final Item first = pool.acquire();
            final Item second = pool.acquire();
            if (first == x)
            {
                r.r1 = 1;
                r.r2 = x.resets == 1 ? 1 : 0;
            }
            else if (second == x)
            {
                r.r1 = 2;
                r.r2 = x.resets == 1 ? 1 : 0;
            }
            else
            {
                r.r1 = 0;
                r.r2 = -1;
            }
            r.r4 = first != second ? 1 : 0;
        }

        @Actor
        public void foreign()
        {
            pool.release(x);
        }

        @Arbiter
        public void arbiter(final IIII_Result r)
        {
            PoolOwner.takeOver(pool);
            pool.drainReturns();
            final long idle = pool.stats().idle();
            int copies = 0;
            for (long i = 0; i < idle; i++)
            {
                if (pool.acquire() == x)
                {
                    copies++;
                }
            }
            r.r3 = copies;
        }
    }
}
