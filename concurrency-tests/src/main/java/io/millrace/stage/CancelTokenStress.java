package io.millrace.stage;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.I_Result;

import java.util.concurrent.atomic.AtomicInteger;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link CancelToken}: the runtime binds a token when its request starts while any thread may
 * cancel it. The two form a Dekker pair (bind: CAS the target, write the generation, read
 * cancelled; cancel: CAS cancelled, read the generation, read the target), so a cancel is never lost
 * for a request parked in a suspension: at least one side asks the context to withdraw it.
 */
public final class CancelTokenStress
{
    private CancelTokenStress()
    {
    }

    /** A context that counts the withdrawals asked of it for the generation it was bound with. */
    static final class CountingTarget implements CancelToken.Target
    {
        final AtomicInteger withdrawals = new AtomicInteger();
        final long generation;

        CountingTarget(final long generation)
        {
            this.generation = generation;
        }

        @Override
        public void cancelParked(final long contextUse)
        {
            if (contextUse == generation)
            {
                withdrawals.incrementAndGet();
            }
        }
    }

    @JCStressTest
    @Description("A request starts (bind) while another thread cancels its token. The context must be asked to " +
        "withdraw the request at least once, with the right generation: by cancel(), which saw the binding, or by " +
        "bind(), which saw the cancel. Twice is harmless (the context's CAS lets one win).")
    @Outcome(id = "1", expect = ACCEPTABLE, desc = "one side saw the other")
    @Outcome(id = "2", expect = ACCEPTABLE, desc = "both saw each other")
    @Outcome(id = "0", expect = FORBIDDEN, desc = "a lost cancel: the parked request would wait forever")
    @Outcome(expect = FORBIDDEN, desc = "anything else")
    @State
    public static class BindVsCancel
    {
        final CancelToken token = new CancelToken();
        final CountingTarget context = new CountingTarget(7);

        @Actor
        public void runtimeBinds()
        {
            token.bind(context, 7);
        }

        @Actor
        public void userCancels()
        {
            token.cancel();
        }

        @Arbiter
        public void arbiter(final I_Result r)
        {
            r.r1 = context.withdrawals.get();
        }
    }

    @JCStressTest
    @Description("Two requests start with one token at once (a misuse the runtime must survive): exactly one bind " +
        "wins, the other throws, and the token stays bound to the winner.")
    @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the first won")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "the second won")
    @Outcome(expect = FORBIDDEN, desc = "both bound (a later unbind would free the other's binding) or none")
    @State
    public static class TwoBinds
    {
        final CancelToken token = new CancelToken();

        @Actor
        public void first(final II_Result r)
        {
            r.r1 = bind(new CountingTarget(1), 1);
        }

        @Actor
        public void second(final II_Result r)
        {
            r.r2 = bind(new CountingTarget(2), 2);
        }

        private int bind(final CancelToken.Target target, final long generation)
        {
            try
            {
                token.bind(target, generation);
                return 1;
            }
            catch (final IllegalStateException alreadyBound)
            {
                return 0;
            }
        }
    }
}
