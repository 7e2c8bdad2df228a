package io.millrace.attack;

import io.millrace.stage.CancelToken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One token submitted twice at once (two threads, round-robin to two workers).
 *
 * <p>Expected ({@code WorkerDispatch.startExchange}: "submitted twice with one token: fail this one,
 * keep the other"; {@link CancelToken#bind}: "@throws IllegalStateException if the token is bound to
 * another request in flight"): of two concurrent binds exactly one wins.
 *
 * <p>Actual: {@code bind} is check-then-act ({@code if (target != null) throw; ... TARGET.setVolatile})
 * with no CAS, so two workers starting the two requests at the same moment both bind: both requests
 * run, the token points at the second only, and when the first completes its {@code unbind()} clears
 * the binding of the second while it is still in flight (a later cancel() then cannot withdraw it
 * from a suspension, and reset() is allowed while it runs). The intake's {@code isBound()} check
 * cannot help: neither request is bound when both are submitted. Probabilistic, bounded loop; on a
 * 2-core machine it hits within a few thousand rounds.
 */
class CancelTokenDoubleBindTest
{
    private static final int ROUNDS = 200_000;

    @Test
    @Timeout(60)
    void twoConcurrentBindsOfOneTokenNeverBothSucceed() throws Exception
    {
        final CancelToken token = new CancelToken();
        final CancelToken.Target a = generation -> { };
        final CancelToken.Target b = generation -> { };
        final AtomicLong round = new AtomicLong();
        final AtomicInteger arrived = new AtomicInteger();
        final AtomicInteger wins = new AtomicInteger();
        final AtomicInteger doubleBinds = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();

        final Thread[] threads = new Thread[2];
        for (int t = 0; t < 2; t++)
        {
            final CancelToken.Target mine = t == 0 ? a : b;
            threads[t] = new Thread(() ->
            {
                long seen = 0;
                while (true)
                {
                    long r;
                    while ((r = round.get()) == seen)
                    {
                        Thread.onSpinWait();
                    }
                    if (r < 0)
                    {
                        return;
                    }
                    seen = r;
                    try
                    {
                        token.bind(mine, r);
                        wins.incrementAndGet();
                    }
                    catch (final IllegalStateException expected)
                    {
                        // the other one won
                    }
                    done.incrementAndGet();
                }
            }, "binder-" + t);
            threads[t].setDaemon(true);
            threads[t].start();
        }
        int rounds = 0;
        for (; rounds < ROUNDS && doubleBinds.get() == 0; rounds++)
        {
            wins.set(0);
            done.set(0);
            round.incrementAndGet();
            while (done.get() < 2)
            {
                Thread.onSpinWait();
            }
            if (wins.get() == 2)
            {
                doubleBinds.incrementAndGet();
            }
            token.unbind();
        }
        round.set(-1);
        for (final Thread t : threads)
        {
            t.join(5_000);
        }
        assertEquals(0, doubleBinds.get(), "both concurrent binds succeeded (after " + rounds + " rounds)");
    }
}
