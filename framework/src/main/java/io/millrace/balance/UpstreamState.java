package io.millrace.balance;

/**
 * An upstream's state as {@link Upstream#state()} and {@link UpstreamStats} show it.
 */
public enum UpstreamState
{
    /** Takes traffic at its full weight. */
    UP,
    /** Re-admitted; its weight is still ramping up (slow start). */
    SLOW_START,
    /** Passively ejected: too many failures within {@code fail-timeout}; back when the ejection ends. */
    EJECTED,
    /** Down by active probes: needs {@code rise} successful probes to come back. */
    PROBE_DOWN,
    /** Takes no new requests; removed from the group once its in-flight requests have ended. */
    DRAINING,
    /** No longer in the group. */
    REMOVED
}
