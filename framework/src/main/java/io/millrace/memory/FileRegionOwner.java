package io.millrace.memory;

/**
 * Whoever keeps a file open for a file region it lent out (see
 * {@link BufferAllocator#fileRegion(java.nio.channels.FileChannel, long, long, FileRegionOwner)}),
 * told when the region is done with the file. A file cache implements it on its entry, so that
 * lending a region costs no object: the entry counts its regions and closes its channel only when
 * it has been evicted and the last of them is done.
 *
 * <p>{@link #regionSent()} is called exactly once per region: when the region's last reference is
 * released, which for a region queued on a connection is when its bytes have all been sent, or when
 * the connection closed before that (the region was dropped). It runs on the thread that releases
 * that reference; for a connection's output that is the connection's worker. It must not throw:
 * an exception would reach whoever released the region, in the middle of releasing a chain.
 */
@FunctionalInterface
public interface FileRegionOwner
{
    /** The region no longer uses the file; called once per region lent. */
    void regionSent();
}
