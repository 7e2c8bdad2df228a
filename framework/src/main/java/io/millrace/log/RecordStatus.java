package io.millrace.log;

/** What {@link RecordCodec#check} found at a position of a segment. */
public enum RecordStatus
{
    /** A whole record: length within bounds, CRC right, offset the one expected. */
    OK,
    /** The bytes end before the record does (header or payload incomplete): a write cut short at the end. */
    TORN,
    /** The length field exceeds the maximum record size: the header is damaged (or is not a header). */
    BAD_LENGTH,
    /** The CRC32C does not match the length, offset and payload: some byte of the record is damaged. */
    BAD_CRC,
    /** An intact record, but not the offset expected here: misplaced or stale data (offsets are dense). */
    BAD_OFFSET;

    /** @return true for the damaged cases (everything but {@link #OK} and {@link #TORN}) */
    public boolean corrupt()
    {
        return this != OK && this != TORN;
    }
}
