package io.millrace.log;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@link LogDirectory#open} found the directory's lock held: another process (or another
 * {@link LogDirectory} in this one) is using it. Two writers on one directory would corrupt its
 * logs, so the second refuses to start; the message names the directory and what to do.
 */
public final class DirectoryLockedException extends IOException
{
    private static final long serialVersionUID = 1L;

    private final transient Path directory;

    /**
     * @param directory the data directory
     * @param message   what holds it and what to do
     */
    public DirectoryLockedException(final Path directory, final String message)
    {
        super(message);
        this.directory = directory;
    }

    /** @return the data directory whose lock is held */
    public Path directory()
    {
        return directory;
    }
}
