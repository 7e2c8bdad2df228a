package io.millrace.worker;

import io.millrace.stage.Outcome;
import io.millrace.stage.Suspension;

/**
 * The {@link Suspension} of one {@link Exchange#suspend()}: its context and its stamp. Immutable; any
 * thread. Resuming it succeeds once, and only while that very suspension is parked: a handle that
 * outlives its suspension (a timeout that lost its race with the answer) fails the context's CAS
 * and throws, so a late resume never reaches whatever request the pooled context carries by then.
 */
final class ParkedSuspension implements Suspension
{
    private final Exchange<?> exchange;
    private final long stamp;
    private final int stage;

    ParkedSuspension(final Exchange<?> exchange, final long stamp, final int stage)
    {
        this.exchange = exchange;
        this.stamp = stamp;
        this.stage = stage;
    }

    @Override
    public void resume(final Outcome outcome)
    {
        resume(outcome, false);
    }

    @Override
    public void resumeFirst(final Outcome outcome)
    {
        resume(outcome, true);
    }

    private void resume(final Outcome outcome, final boolean first)
    {
        if (outcome == null || outcome.kind() == Outcome.Kind.BLOCKED)
        {
            throw new IllegalArgumentException("resume(" + outcome + "): resume with Outcome.next(stage) or Outcome.done()");
        }
        if (outcome.kind() == Outcome.Kind.NEXT && !outcome.target().belongsTo(exchange.runtimeToken()))
        {
            throw new IllegalArgumentException("resume(" + outcome + "): that stage belongs to another pipeline");
        }
        exchange.wake(stamp, stage, outcome, null, first);
    }

    @Override
    public void fail(final Throwable cause)
    {
        exchange.wake(stamp, stage, null, cause == null ? new NullPointerException("Suspension.fail(null)") : cause, false);
    }

    @Override
    public String toString()
    {
        return "suspension in stage '" + exchange.stageNameOf(stage) + "'";
    }
}
