package io.millrace.memory;

/**
 * A snapshot of one allocator's small buffers, those of {@link BufferAllocator#allocate(int)} carved
 * from shared chunks. Read from any thread, each value is untorn and recent; read on the owner
 * thread, they are exact. The chunks themselves are also counted in
 * {@link BufferAllocator#chunkStats()}, as acquisitions of the chunk pool.
 *
 * @param allocations     small buffers handed out
 * @param chunksTaken     chunks taken from the allocator's chunk pool to carve small buffers from;
 *                        far fewer than {@code allocations} is the point
 * @param recycledInPlace times a used chunk was carved again from its start because every buffer
 *                        carved from it had been released, without going back to the pool
 * @param chunksHeld      chunks the allocator is carving from now: at most one per size class in use
 */
public record SmallBufferStats(long allocations, long chunksTaken, long recycledInPlace, int chunksHeld)
{
}
