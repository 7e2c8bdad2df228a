package io.millrace.log;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * A run of whole framed records in one segment file, as {@link PartitionLog#openRange} found it:
 * {@code length} bytes from {@code position} of {@code channel}, holding offsets
 * {@code fromOffset} to {@code nextOffset - 1}. The bytes are the stored frames (header, then payload),
 * so that a reader can check every record's CRC; send them with {@code transferTo} (sendfile).
 *
 * @param channel    a channel opened for this range alone (null when the range is empty); whoever
 *                   receives the range closes it, or hands it to a sender that does
 * @param position   where the first record starts in the file
 * @param length     bytes of whole records
 * @param fromOffset the first record's offset
 * @param nextOffset the offset after the last record: where a reader continues
 */
public record LogRange(FileChannel channel, long position, long length, long fromOffset, long nextOffset)
    implements AutoCloseable
{
    /** @return the number of records in the range */
    public long records()
    {
        return nextOffset - fromOffset;
    }

    /** Closes the channel, if there is one. */
    @Override
    public void close() throws IOException
    {
        if (channel != null)
        {
            channel.close();
        }
    }
}
