/**
 * A durable append-only log, Kafka-style: per topic partition a directory of segment files named by
 * base offset, records framed with length, CRC32C and offset ({@link io.millrace.log.RecordCodec}),
 * a sparse memory-mapped offset index per segment, crash recovery that truncates only the tail, and
 * retention by whole segments. Entry point: {@link io.millrace.log.PartitionLog}. Format and rules:
 * {@code docs/log.md}.
 *
 * <p>Threading in one sentence: a {@link io.millrace.log.PartitionLog} and everything under it is
 * owned by one thread, the partition's worker, and is not locked.
 */
package io.millrace.log;
