package io.millrace.memory;

/**
 * A snapshot of one {@link LookasidePool}'s counters. Counters only grow; {@code idle} and
 * {@code live} are gauges. Read from any thread, the values are each untorn and recent but not
 * taken at one instant; read on the owner thread (or after the threads using the pool have
 * stopped), they are exact.
 *
 * @param name    the pool's name
 * @param hits    acquisitions served from the pool's lists
 * @param misses  acquisitions that had to create an object
 * @param frees   releases on the owner thread
 * @param returns objects released on other threads that reached the owner through its return queue
 * @param drops   objects given to the garbage collector (or the discard hook) instead of being kept:
 *                released while the pool was at its cap, or released on another thread while the
 *                return queue was full
 * @param sweeps  sweeps run
 * @param evicted objects let go by sweeps because they stayed idle for a whole generation
 * @param idle    objects in the pool now (new and old generation)
 * @param live    objects handed out and not yet back; an object waiting in the return queue
 *                counts until the owner drains it
 */
public record PoolStats(String name, long hits, long misses, long frees, long returns, long drops, long sweeps,
    long evicted, long idle, long live)
{
}
