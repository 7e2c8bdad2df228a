package io.millrace.balance;

/**
 * How one attempt on an upstream ended, as told to {@link Balancer#onEnd}.
 */
public enum CallOutcome
{
    /** The upstream answered usefully. Its latency feeds the averages; a re-admitted upstream leaves probation. */
    SUCCESS,
    /**
     * The upstream failed (connect error, timeout, a configured 502/503/504): it counts toward
     * {@code max-fails}. Its latency is not averaged (as nginx's {@code least_time}): a server that
     * fails fast must not look fast.
     */
    FAILURE,
    /**
     * Neither: the client went away, the request was cancelled, the caller gave up for its own
     * reasons. Counted as ended; no health or latency effect.
     */
    NEUTRAL
}
