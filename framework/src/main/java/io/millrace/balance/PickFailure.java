package io.millrace.balance;

/**
 * Why the last {@link Balancer#pick} found no upstream ({@link Balancer#lastFailure()}). When
 * candidates were refused for several reasons, the first that applies in this order is reported:
 * {@link #BUSY}, {@link #DOWN}, {@link #TRIED}, {@link #EMPTY}.
 */
public enum PickFailure
{
    /** The last pick found one. */
    NONE,
    /** The group has no upstream that takes new requests (none added, or all removed or draining). */
    EMPTY,
    /** Every upstream left was already tried by this request. */
    TRIED,
    /** Upstreams were left but all down: passively ejected, or down by active probes. */
    DOWN,
    /**
     * Upstreams were up but over a circuit-breaker limit (connections, pending, in flight) or the
     * policy's active-request limit: answer 503 at once rather than queue.
     */
    BUSY
}
