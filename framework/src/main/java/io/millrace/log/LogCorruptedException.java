package io.millrace.log;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A record of a log is damaged where damage is not allowed: before the tail segment at open, or
 * anywhere on a read. Names the file and byte position; the message says what to do.
 */
public final class LogCorruptedException extends IOException
{
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long position;

    /**
     * @param file     the segment file
     * @param position byte position of the damaged record in it
     * @param message  what is wrong and what to do
     */
    public LogCorruptedException(final Path file, final long position, final String message)
    {
        super(message);
        this.file = file;
        this.position = position;
    }

    /** @return the segment file holding the damaged record */
    public Path file()
    {
        return file;
    }

    /** @return byte position of the damaged record in {@link #file()} */
    public long position()
    {
        return position;
    }
}
