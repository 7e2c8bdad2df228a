package io.millrace.worker;

import io.millrace.memory.BufferAllocator;
import io.millrace.stage.WorkerTimers;

import java.io.IOException;

/**
 * Opens one {@link WorkerIo} per worker when a pipeline starts, on the starting thread, so that
 * an error such as an address already in use reaches the caller of {@code Pipeline.start()}.
 * {@code io.millrace.net.TcpServer} is the implementation users attach.
 */
public interface WorkerIoProvider
{
    /**
     * @param workerThreads the worker threads, by index, not yet started; the I/O of index i will
     *                      be used only by {@code workerThreads[i]}
     * @param allocators    each worker's buffer allocator, owned by that worker's thread
     * @param timers        each worker's timers, owned by that worker's thread (the transport's
     *                      connect and read timeouts of outbound connections use them)
     * @return one I/O per worker, by index
     * @throws IOException if the I/O cannot be opened; nothing stays open then
     */
    WorkerIo[] open(Thread[] workerThreads, BufferAllocator[] allocators, WorkerTimers[] timers) throws IOException;
}
