package io.millrace.log;

/**
 * When an append through {@link GroupCommit} is acknowledged (its {@link AppendListener} called and
 * its request resumed).
 */
public enum Ack
{
    /**
     * After the write that carries the record, at the end of the worker's turn: the record is in the
     * page cache. It survives a crash of the process, not a power loss or an operating system crash.
     */
    NONE,
    /**
     * After a force ({@code fdatasync}) that covers the record: it survives a power loss. One force
     * covers every record written before it, so the appends of a whole turn (or, with
     * {@link ForceMode#SYNC_THREAD}, of every turn while the previous force ran) share it.
     */
    DURABLE
}
