package io.millrace.memory;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A file region with an owner tells it once, after its last release, whether it was written or dropped. */
class FileRegionOwnerTest
{
    @TempDir
    Path dir;

    private BufferAllocator alloc;
    private FileChannel file;
    private int told;

    @BeforeEach
    void setUp() throws IOException
    {
        alloc = SlabArena.builder().chunkSize(4096).slabSize(1 << 16).maxSlabs(4).leakDetector(LeakDetector.paranoid())
            .build().newAllocator("w0", Thread.currentThread());
        file = FileChannel.open(Files.writeString(dir.resolve("f.txt"), "0123456789"), StandardOpenOption.READ);
    }

    @Test
    void toldOnceWhenTheRegionIsWrittenAndNotBefore() throws IOException
    {
        final BufferChain chain = alloc.newChain();
        chain.append(alloc.fileRegion(file, 2, 5, () -> told++));
        try (FileChannel out = FileChannel.open(dir.resolve("out"), StandardOpenOption.CREATE, StandardOpenOption.WRITE))
        {
            assertEquals(0, told);
            assertEquals(5, chain.writeTo(out));
        }
        assertEquals(1, told, "the written region was released and its owner told");
        chain.release();
        assertEquals(1, told);
        assertTrue(file.isOpen(), "the allocator never closes an owned file");
        assertEquals("23456", Files.readString(dir.resolve("out")));
    }

    @Test
    void toldOnceWhenTheRegionIsDroppedUnsent()
    {
        final BufferChain chain = alloc.newChain();
        chain.append(alloc.fileRegion(file, 0, 10, () -> told++));
        chain.release();
        assertEquals(1, told);
    }

    @Test
    void aSliceKeepsTheOwnedRegionUntilItIsReleasedToo()
    {
        final BufferDescriptor region = alloc.fileRegion(file, 0, 10, () -> told++);
        final BufferDescriptor slice = alloc.slice(region, 3, 4);
        final BufferDescriptor sliceOfSlice = alloc.slice(slice, 1, 2);
        region.release();
        assertEquals(0, told, "the slices still use the file");
        slice.release();
        assertEquals(0, told);
        sliceOfSlice.release();
        assertEquals(1, told);
    }

    @Test
    void aRegionWithoutOwnerIsUnchanged()
    {
        final BufferDescriptor region = alloc.fileRegion(file, 0, 10);
        alloc.slice(region).release();
        region.release();
        assertTrue(file.isOpen());
        assertEquals(0, alloc.descriptorStats().live());
    }
}
