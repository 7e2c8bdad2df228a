/**
 * Memory without copies, allocation or locks on the hot path: thread-private lookaside pools,
 * page-aligned slabs carved into chunks, and reference-counted buffer descriptors linked into
 * chains for gathering writes and sendfile.
 *
 * <p>What a user touches: {@link io.millrace.memory.SlabArena} (one per server, shared),
 * {@link io.millrace.memory.BufferAllocator} (one per worker thread),
 * {@link io.millrace.memory.BufferDescriptor}, {@link io.millrace.memory.BufferChain},
 * {@link io.millrace.memory.LeakDetector}, and for pooling objects of one's own,
 * {@link io.millrace.memory.LookasidePool}. Ownership rules are in {@code docs/memory.md}.
 *
 * <p>Threading in one paragraph: pools and allocators belong to one thread, which alone takes
 * from them and sweeps them, with plain reads and writes. Any thread may give back: another
 * thread's release travels to the owner through a bounded lock-free Agrona queue, or is dropped
 * and counted if that queue is full. Reference counts are changed with VarHandle compare-and-set
 * loops and may be retained and released anywhere. A descriptor's or chain's other fields belong
 * to whichever thread carries the request, and move with it.
 */
package io.millrace.memory;
