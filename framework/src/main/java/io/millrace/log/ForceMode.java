package io.millrace.log;

/**
 * Where {@link GroupCommit} runs the force that makes a turn's {@link Ack#DURABLE} appends durable.
 * The two are measured side by side in {@code docs/benchmarks.md}; {@code docs/log.md} says which to
 * choose when.
 */
public enum ForceMode
{
    /**
     * On the worker, at the end of the turn, right after the turn's gathering write. Simplest, and
     * the worker's next turn batches everything that arrived during the force; but the worker's
     * other requests and connections wait for the force (about 90 µs on this project's test disk).
     */
    WORKER,
    /**
     * On a sync thread of the group commit's own (a stage of one thread, in SEDA terms): the worker
     * writes and goes on at once; the sync thread forces every log with written, unforced records and
     * acknowledges them. Records written while one force runs are covered by the next, so batches
     * grow under load by themselves, and the workers never wait for the disk.
     */
    SYNC_THREAD
}
