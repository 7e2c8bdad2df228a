package io.millrace.worker;

import io.millrace.stage.Outcome;
import io.millrace.stage.Suspension;

/**
 * The handle {@code ctx.suspend()} returns: the request's context and which of its suspensions
 * this is. Resuming wins that suspension with one CAS on the context; a handle of an earlier
 * suspension, of this request or of an earlier request of the same pooled context, fails the CAS
 * and throws, so a late resume can never reach the wrong request.
 *
 * <p>Threading: immutable; any thread may resume or fail, once.
 */
final class ParkedRequest implements Suspension
{
    private final Exchange<?> exchange;
    private final long seq;

    ParkedRequest(final Exchange<?> exchange, final long seq)
    {
        this.exchange = exchange;
        this.seq = seq;
    }

    @Override
    public void resume(final Outcome outcome)
    {
        if (outcome == null || outcome.kind() == Outcome.Kind.BLOCKED)
        {
            throw new IllegalArgumentException("resume(" + outcome + "): resume with Outcome.next(stage) or Outcome.done()");
        }
        exchange.wake(seq, outcome, null);
    }

    @Override
    public void fail(final Throwable cause)
    {
        exchange.wake(seq, null, cause == null ? new NullPointerException("Suspension.fail(null)") : cause);
    }

    @Override
    public String toString()
    {
        return "Suspension{" + exchange + ", #" + seq + '}';
    }
}
