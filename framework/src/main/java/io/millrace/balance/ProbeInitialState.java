package io.millrace.balance;

/**
 * An upstream's active-probe state when it joins a group with probes configured (HAProxy's
 * {@code init-state}). The probe state machine keeps a health counter from 0 to
 * {@code rise + fall - 1}: up at {@code rise} or more; a success adds one (reaching {@code rise}
 * while down brings it up and fills the counter), a failure takes one while above {@code rise},
 * else brings it down and empties the counter.
 */
public enum ProbeInitialState
{
    /** Up; {@code fall} failed probes take it down. */
    FULLY_UP,
    /** Up, but the first failed probe takes it down (HAProxy's default). */
    UP,
    /** Down until the first successful probe. */
    DOWN,
    /** Down until {@code rise} successful probes in a row. */
    FULLY_DOWN
}
