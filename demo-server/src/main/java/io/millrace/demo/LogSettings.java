package io.millrace.demo;

import io.millrace.log.ForceMode;

import java.nio.file.Path;

/**
 * The demo's durable-log settings, from command-line flags (see {@link DemoConfig#USAGE}).
 *
 * @param dataDir        the data directory: topic logs, the /kv log and snapshot; locked while the server runs
 * @param maxTopics      /log topics at most; a new topic past it gets 507
 * @param segmentBytes   segment size of every log
 * @param retentionBytes per topic: old segments are deleted while the rest holds at least this much; -1 keeps all
 * @param retentionMs    per topic: segments whose last append is older are deleted; -1 keeps all
 * @param maxRecordBytes largest POST /log body (413 above it)
 * @param forceMode      where the group commit's fdatasync runs
 * @param kvCompactBytes the /kv log is compacted once it has grown by more than this (and more than the store) since the last compaction
 */
public record LogSettings(Path dataDir, int maxTopics, int segmentBytes, long retentionBytes, long retentionMs,
                          int maxRecordBytes, ForceMode forceMode, long kvCompactBytes)
{
    /** @return the defaults of {@link DemoConfig#parse}: data/ in the working directory, 1,024 topics, 64 MiB segments, no retention, 1 MiB records, a sync thread, 64 MiB */
    public static LogSettings defaults()
    {
        return new LogSettings(Path.of("data"), 1024, 64 << 20, -1, -1, 1 << 20, ForceMode.SYNC_THREAD, 64L << 20);
    }

    /** @return a copy with another data directory */
    public LogSettings withDataDir(final Path v)
    {
        return new LogSettings(v, maxTopics, segmentBytes, retentionBytes, retentionMs, maxRecordBytes, forceMode, kvCompactBytes);
    }
}
