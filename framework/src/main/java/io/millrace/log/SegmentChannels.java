package io.millrace.log;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Opens the file channel of a segment's {@code .log} file (read and write, created if absent).
 * The default, {@link #FILES}, opens the real file; a test supplies a channel that injects faults,
 * such as one that keeps only what was forced so that a simulated power cut can be replayed.
 * Index files are not opened through it: they are memory-mapped, and rebuilt after every unclean open.
 */
@FunctionalInterface
public interface SegmentChannels
{
    /** Opens real files with {@link FileChannel#open}. */
    SegmentChannels FILES = file -> FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);

    /**
     * @param file the segment's {@code .log} file
     * @return a channel reading and writing it, positioned anywhere
     * @throws IOException if the file cannot be opened
     */
    FileChannel open(Path file) throws IOException;
}
