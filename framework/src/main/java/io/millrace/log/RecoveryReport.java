package io.millrace.log;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link PartitionLog#open} found and did.
 *
 * @param clean           the clean-shutdown marker was present and the tail agreed with it: nothing was scanned
 *                        beyond the tail's last index interval
 * @param markerContradicted the marker was present but the tail's end was not a whole record: recovered as unclean
 * @param segmentsScanned segments read in full with every CRC verified
 * @param bytesScanned    bytes those scans read
 * @param indexesRebuilt  index files rebuilt from their segment (missing, damaged, or after an unclean shutdown)
 * @param truncatedFile   segment truncated at a torn or corrupt record, or null
 * @param truncatedAt     byte position it was truncated at, or -1
 * @param truncatedBytes  bytes dropped from it (0 if none)
 * @param truncatedStatus why: {@link RecordStatus#TORN} or a corrupt status, or null
 * @param repairedAway    later segments deleted by an explicit {@link LogOptions#repairTruncate()} repair
 */
public record RecoveryReport(boolean clean, boolean markerContradicted, int segmentsScanned, long bytesScanned,
                             int indexesRebuilt, Path truncatedFile, long truncatedAt, long truncatedBytes,
                             RecordStatus truncatedStatus, List<Path> repairedAway)
{
}
