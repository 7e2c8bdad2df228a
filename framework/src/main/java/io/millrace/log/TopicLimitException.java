package io.millrace.log;

/**
 * A new topic was asked of a {@link LogDirectory} that already holds
 * {@link LogDirectoryOptions#maxTopics()} topics. Nothing was created; existing topics still work.
 * A server answers it as a capacity refusal (the demo: 507).
 */
public final class TopicLimitException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final int limit;

    /**
     * @param topic the topic that was refused
     * @param limit the cap
     */
    public TopicLimitException(final String topic, final int limit)
    {
        super("cannot create topic '" + topic + "': the log directory already holds its maximum of " + limit
            + " topics (LogDirectoryOptions.maxTopics); use an existing topic, delete unused topic directories while"
            + " the server is stopped, or raise the limit");
        this.limit = limit;
    }

    /** @return the cap that was reached */
    public int limit()
    {
        return limit;
    }
}
