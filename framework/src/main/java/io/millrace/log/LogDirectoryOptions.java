package io.millrace.log;

import java.util.Objects;

/**
 * How a {@link LogDirectory} keeps its topics. Start from {@link #defaults()}.
 *
 * @param maxTopics            topics the directory holds at most (those found on disk count); a new
 *                             topic beyond it is refused with {@link TopicLimitException}
 * @param topicOptions         the options every topic's {@link PartitionLog} is opened with, retention
 *                             limits included ({@link LogOptions#retentionBytes()}, {@link LogOptions#retentionMillis()})
 * @param retentionCheckMillis {@link LogDirectory#enforceRetention()} runs a topic's retention at most
 *                             this often (on {@code topicOptions}' clock); 0 runs it on every call
 */
public record LogDirectoryOptions(int maxTopics, LogOptions topicOptions, long retentionCheckMillis)
{
    /** Checks every field. */
    public LogDirectoryOptions
    {
        Objects.requireNonNull(topicOptions, "topicOptions");
        if (maxTopics < 1)
        {
            throw new IllegalArgumentException("maxTopics must be at least 1, was " + maxTopics);
        }
        if (retentionCheckMillis < 0)
        {
            throw new IllegalArgumentException("retentionCheckMillis must be >= 0, was " + retentionCheckMillis);
        }
    }

    /** @return 1,024 topics of {@link LogOptions#defaults()}, retention checked at most once a second per topic */
    public static LogDirectoryOptions defaults()
    {
        return new LogDirectoryOptions(1024, LogOptions.defaults(), 1000);
    }

    /** @return a copy with another topic cap */
    public LogDirectoryOptions withMaxTopics(final int v)
    {
        return new LogDirectoryOptions(v, topicOptions, retentionCheckMillis);
    }

    /** @return a copy whose topics are opened with {@code v} */
    public LogDirectoryOptions withTopicOptions(final LogOptions v)
    {
        return new LogDirectoryOptions(maxTopics, v, retentionCheckMillis);
    }

    /** @return a copy with another retention interval */
    public LogDirectoryOptions withRetentionCheckMillis(final long v)
    {
        return new LogDirectoryOptions(maxTopics, topicOptions, v);
    }
}
