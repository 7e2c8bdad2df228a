package io.millrace.log;

import java.io.IOException;

/**
 * A roll could not create the next segment (most often the process is out of file descriptors,
 * which any client holding enough connections can cause). Unlike other append failures it leaves
 * the {@link PartitionLog} usable: nothing was changed by the roll, and the next append that needs
 * one tries again. From {@link PartitionLog#appendBatch}, the first {@link #appended()} records of
 * the batch were appended (they end at {@link PartitionLog#nextOffset()}) and the others were not.
 */
public final class NoNextSegmentException extends IOException
{
    private static final long serialVersionUID = 1L;

    private int appended;

    /**
     * @param message what failed and what to do
     * @param cause   the failure to create or name the segment file
     */
    public NoNextSegmentException(final String message, final Throwable cause)
    {
        super(message, cause);
    }

    /** @return records of the failed batch that were appended before the roll (0 from {@link PartitionLog#roll()}) */
    public int appended()
    {
        return appended;
    }

    /** Sets how many records of the batch were appended; called by the log before rethrowing. */
    NoNextSegmentException withAppended(final int records)
    {
        this.appended = records;
        return this;
    }
}
