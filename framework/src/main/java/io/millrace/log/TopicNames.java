package io.millrace.log;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Topic names become directory names under the data directory, so they are restricted to
 * {@code [a-z0-9._-]{1,64}}: no separator, no upper case (case-insensitive file systems would merge
 * {@code A} and {@code a}), and not {@code .} or {@code ..}, the only names of that alphabet that
 * walk out of (or stay on) the data directory itself.
 */
public final class TopicNames
{
    /** Longest topic name accepted. */
    public static final int MAX_LENGTH = 64;
    private static final Pattern ALLOWED = Pattern.compile("[a-z0-9._-]{1," + MAX_LENGTH + "}");

    private TopicNames()
    {
    }

    /**
     * @return {@code topic}, if it is a valid name
     * @throws IllegalArgumentException saying what is wrong and what is allowed
     */
    public static String validate(final String topic)
    {
        if (topic == null || !ALLOWED.matcher(topic).matches() || topic.equals(".") || topic.equals(".."))
        {
            throw new IllegalArgumentException("invalid topic name " + describe(topic)
                + ": use 1 to " + MAX_LENGTH + " characters of a-z, 0-9, '.', '_' and '-', other than '.' and '..'");
        }
        return topic;
    }

    /**
     * @return the topic's directory under {@code dataDir}, after {@link #validate}; checked to stay inside it
     */
    public static Path directory(final Path dataDir, final String topic)
    {
        final Path root = dataDir.toAbsolutePath().normalize();
        final Path dir = root.resolve(validate(topic)).normalize();
        if (!dir.getParent().equals(root))
        {
            throw new IllegalArgumentException("topic " + describe(topic) + " resolves outside the data directory " + root);
        }
        return dir;
    }

    private static String describe(final String topic)
    {
        if (topic == null)
        {
            return "null";
        }
        final String shown = topic.length() > 80 ? topic.substring(0, 80) + "..." : topic;
        return "'" + shown.replace("\n", "\\n").replace("\r", "\\r") + "' (" + topic.length() + " chars)";
    }
}
