package io.millrace.balance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What one upstream server is: where it is (host and port, or an opaque endpoint object under a
 * name), its weight, whether it is a backup, its zone label, and its own passive-health and
 * circuit-breaker settings. Immutable; the {@code with...} methods return a changed copy, checked
 * as the constructor checks.
 *
 * <p>The name identifies the upstream in its group: two specs with the same name are the same
 * server, so {@link UpstreamGroup#update} keeps that server's identity (and statistics) when the
 * other fields change. For a host and port the name is {@code host:port} ({@code [v6]:port}); the
 * host is kept as written (lower-cased), never resolved: this package does no networking.
 *
 * <p>Text form (the demo's {@code --upstream} flag and the upstream file, see {@link #parse} and
 * {@link #readFile}): {@code host:port[,param]...}, for example {@code 127.0.0.1:9002,weight=3},
 * {@code 10.0.0.7:80,backup}, {@code app-1:8080,zone=a,max-fails=3,fail-timeout=30s}. The
 * parameters, after nginx's {@code server} directive ({@code _} may stand for {@code -}):
 *
 * <table>
 * <caption>parameters</caption>
 * <tr><th>parameter</th><th>meaning</th><th>default</th></tr>
 * <tr><td>{@code weight=N}</td><td>1 to {@value #MAX_WEIGHT}</td><td>1</td></tr>
 * <tr><td>{@code backup}</td><td>gets traffic only when no primary can take it</td><td>primary</td></tr>
 * <tr><td>{@code zone=LABEL}</td><td>for zone avoidance; {@code [A-Za-z0-9._-]{1,64}}</td><td>none</td></tr>
 * <tr><td>{@code max-fails=N}</td><td>failures within {@code fail-timeout} that eject; 0 never ejects</td><td>the group's</td></tr>
 * <tr><td>{@code fail-timeout=T}</td><td>the window that counts failures, and the first ejection's length</td><td>the group's</td></tr>
 * <tr><td>{@code slow-start=T}</td><td>weight ramp after re-admission; 0s for none</td><td>the group's</td></tr>
 * <tr><td>{@code max-conns=N}</td><td>circuit breaker: open connections across workers; 0 for no limit</td><td>0</td></tr>
 * <tr><td>{@code max-pending=N}</td><td>circuit breaker: requests waiting for a connection</td><td>0</td></tr>
 * <tr><td>{@code max-in-flight=N}</td><td>circuit breaker: requests in flight across workers</td><td>0</td></tr>
 * </table>
 *
 * <p>A time {@code T} is one or more number-unit pairs, units {@code ms}, {@code s}, {@code m},
 * {@code h}: {@code 500ms}, {@code 10s}, {@code 1m30s}.
 */
public final class UpstreamSpec
{
    /** Largest weight accepted. */
    public static final int MAX_WEIGHT = 1000;
    /** {@link #maxFails()} when the group's default applies. */
    public static final int INHERIT = -1;
    /** Largest {@code max-fails}. */
    public static final int MAX_FAILS = 1000;

    private static final Pattern ZONE = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern NAME = Pattern.compile("\\S{1,255}");

    private final String name;
    private final String host;
    private final int port;
    private final Object endpoint;
    private final int weight;
    private final boolean backup;
    private final String zone;
    private final int maxFails;
    private final Duration failTimeout;
    private final Duration slowStart;
    private final int maxConnections;
    private final int maxPending;
    private final int maxInFlight;

    private UpstreamSpec(final String name, final String host, final int port, final Object endpoint, final int weight,
        final boolean backup, final String zone, final int maxFails, final Duration failTimeout, final Duration slowStart,
        final int maxConnections, final int maxPending, final int maxInFlight)
    {
        if (weight < 1 || weight > MAX_WEIGHT)
        {
            throw new IllegalArgumentException(name + ": weight must be 1 to " + MAX_WEIGHT + ", was " + weight);
        }
        if (zone != null && !ZONE.matcher(zone).matches())
        {
            throw new IllegalArgumentException(name + ": zone '" + zone + "' must be 1 to 64 characters of " +
                "A-Z, a-z, 0-9, '.', '_' and '-'");
        }
        if (maxFails != INHERIT && (maxFails < 0 || maxFails > MAX_FAILS))
        {
            throw new IllegalArgumentException(name + ": max-fails must be 0 (never eject) to " + MAX_FAILS + ", was " +
                maxFails);
        }
        if (failTimeout != null && (failTimeout.isNegative() || failTimeout.isZero()))
        {
            throw new IllegalArgumentException(name + ": fail-timeout must be positive, was " + failTimeout);
        }
        if (slowStart != null && slowStart.isNegative())
        {
            throw new IllegalArgumentException(name + ": slow-start cannot be negative, was " + slowStart);
        }
        checkLimit(name, "max-conns", maxConnections);
        checkLimit(name, "max-pending", maxPending);
        checkLimit(name, "max-in-flight", maxInFlight);
        this.name = name;
        this.host = host;
        this.port = port;
        this.endpoint = endpoint;
        this.weight = weight;
        this.backup = backup;
        this.zone = zone;
        this.maxFails = maxFails;
        this.failTimeout = failTimeout;
        this.slowStart = slowStart;
        this.maxConnections = maxConnections;
        this.maxPending = maxPending;
        this.maxInFlight = maxInFlight;
    }

    private static void checkLimit(final String name, final String what, final int value)
    {
        if (value < 0)
        {
            throw new IllegalArgumentException(name + ": " + what + " must be 0 (no limit) or positive, was " + value);
        }
    }

    /**
     * @param host a host name, IPv4 address or IPv6 address (with or without brackets); not resolved
     * @param port 1 to 65535
     * @return a primary upstream of weight 1 named {@code host:port}
     * @throws IllegalArgumentException for a malformed host or a port out of range
     */
    public static UpstreamSpec of(final String host, final int port)
    {
        final String h = SpecParser.checkHost(Objects.requireNonNull(host, "host"));
        if (port < 1 || port > 65535)
        {
            throw new IllegalArgumentException("port must be 1 to 65535, was " + port + " (for host " + host + ")");
        }
        final String name = (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + port;
        return new UpstreamSpec(name, h, port, null, 1, false, null, INHERIT, null, null, 0, 0, 0);
    }

    /**
     * An upstream that is not a socket address: a queue, a test double, a connection factory. The
     * balancer never looks inside {@code endpoint}.
     *
     * @param name     the upstream's identity in its group: 1 to 255 characters, no white space
     * @param endpoint whatever the caller needs to reach it
     * @return a primary upstream of weight 1
     */
    public static UpstreamSpec ofEndpoint(final String name, final Object endpoint)
    {
        Objects.requireNonNull(endpoint, "endpoint");
        if (name == null || !NAME.matcher(name).matches())
        {
            throw new IllegalArgumentException("an endpoint's name must be 1 to 255 characters without white space, was '" +
                name + "'");
        }
        return new UpstreamSpec(name, null, 0, endpoint, 1, false, null, INHERIT, null, null, 0, 0, 0);
    }

    /**
     * Parses the text form, e.g. {@code 127.0.0.1:9002,weight=3,zone=a}. See the class comment.
     *
     * @param text one upstream
     * @return its spec
     * @throws IllegalArgumentException naming the bad part and what is allowed
     */
    public static UpstreamSpec parse(final String text)
    {
        return SpecParser.parse(Objects.requireNonNull(text, "text"));
    }

    /**
     * Parses an upstream file's lines: one upstream per line in the text form; {@code #} starts a
     * comment that runs to the end of the line; blank lines are skipped. A name given twice is an
     * error.
     *
     * @param lines the file's lines
     * @return the specs, in file order
     * @throws IllegalArgumentException whose message starts with {@code line N:}
     */
    public static List<UpstreamSpec> parseLines(final List<String> lines)
    {
        return SpecParser.parseLines(Objects.requireNonNull(lines, "lines"));
    }

    /**
     * Reads and parses an upstream file (UTF-8) as {@link #parseLines} does.
     *
     * @param file the file
     * @return the specs, in file order
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException whose message names the file and the line
     */
    public static List<UpstreamSpec> readFile(final Path file) throws IOException
    {
        final List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        try
        {
            return parseLines(lines);
        }
        catch (final IllegalArgumentException e)
        {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** @return the upstream's identity in its group: {@code host:port}, or the endpoint's name */
    public String name()
    {
        return name;
    }

    /** @return the host as written (lower-cased, IPv6 without brackets), or null for an endpoint */
    public String host()
    {
        return host;
    }

    /** @return the port, or 0 for an endpoint */
    public int port()
    {
        return port;
    }

    /** @return the opaque endpoint, or null for a host and port */
    public Object endpoint()
    {
        return endpoint;
    }

    /** @return 1 to {@value #MAX_WEIGHT} */
    public int weight()
    {
        return weight;
    }

    /** @return true for a backup server */
    public boolean backup()
    {
        return backup;
    }

    /** @return the zone label, or null */
    public String zone()
    {
        return zone;
    }

    /** @return failures within the fail timeout that eject (0: never), or {@link #INHERIT} */
    public int maxFails()
    {
        return maxFails;
    }

    /** @return the fail timeout, or null for the group's */
    public Duration failTimeout()
    {
        return failTimeout;
    }

    /** @return the slow-start window, or null for the group's */
    public Duration slowStart()
    {
        return slowStart;
    }

    /** @return the connection limit across workers, 0 for none */
    public int maxConnections()
    {
        return maxConnections;
    }

    /** @return the limit of requests waiting for a connection, 0 for none */
    public int maxPending()
    {
        return maxPending;
    }

    /** @return the limit of requests in flight across workers, 0 for none */
    public int maxInFlight()
    {
        return maxInFlight;
    }

    /**
     * @param value 1 to {@value #MAX_WEIGHT}
     * @return a copy with this weight
     */
    public UpstreamSpec withWeight(final int value)
    {
        return new UpstreamSpec(name, host, port, endpoint, value, backup, zone, maxFails, failTimeout, slowStart,
            maxConnections, maxPending, maxInFlight);
    }

    /**
     * @param value true for a backup server
     * @return a copy
     */
    public UpstreamSpec withBackup(final boolean value)
    {
        return new UpstreamSpec(name, host, port, endpoint, weight, value, zone, maxFails, failTimeout, slowStart,
            maxConnections, maxPending, maxInFlight);
    }

    /**
     * @param value a zone label, or null for none
     * @return a copy
     */
    public UpstreamSpec withZone(final String value)
    {
        return new UpstreamSpec(name, host, port, endpoint, weight, backup, value, maxFails, failTimeout, slowStart,
            maxConnections, maxPending, maxInFlight);
    }

    /**
     * @param value 0 (never eject) to {@value #MAX_FAILS}, or {@link #INHERIT}
     * @return a copy
     */
    public UpstreamSpec withMaxFails(final int value)
    {
        return new UpstreamSpec(name, host, port, endpoint, weight, backup, zone, value, failTimeout, slowStart,
            maxConnections, maxPending, maxInFlight);
    }

    /**
     * @param value positive, or null for the group's
     * @return a copy
     */
    public UpstreamSpec withFailTimeout(final Duration value)
    {
        return new UpstreamSpec(name, host, port, endpoint, weight, backup, zone, maxFails, value, slowStart,
            maxConnections, maxPending, maxInFlight);
    }

    /**
     * @param value zero (none) or positive, or null for the group's
     * @return a copy
     */
    public UpstreamSpec withSlowStart(final Duration value)
    {
        return new UpstreamSpec(name, host, port, endpoint, weight, backup, zone, maxFails, failTimeout, value,
            maxConnections, maxPending, maxInFlight);
    }

    /**
     * @param connections open connections across workers, 0 for no limit
     * @param pending     requests waiting for a connection, 0 for no limit
     * @param inFlight    requests in flight across workers, 0 for no limit
     * @return a copy with these circuit-breaker limits
     */
    public UpstreamSpec withLimits(final int connections, final int pending, final int inFlight)
    {
        return new UpstreamSpec(name, host, port, endpoint, weight, backup, zone, maxFails, failTimeout, slowStart,
            connections, pending, inFlight);
    }

    /** @return the text form: {@link #parse} gives back an equal spec (for a host and port) */
    @Override
    public String toString()
    {
        final StringBuilder b = new StringBuilder(name);
        if (weight != 1)
        {
            b.append(",weight=").append(weight);
        }
        if (backup)
        {
            b.append(",backup");
        }
        if (zone != null)
        {
            b.append(",zone=").append(zone);
        }
        if (maxFails != INHERIT)
        {
            b.append(",max-fails=").append(maxFails);
        }
        if (failTimeout != null)
        {
            b.append(",fail-timeout=").append(failTimeout.toMillis()).append("ms");
        }
        if (slowStart != null)
        {
            b.append(",slow-start=").append(slowStart.toMillis()).append("ms");
        }
        if (maxConnections != 0)
        {
            b.append(",max-conns=").append(maxConnections);
        }
        if (maxPending != 0)
        {
            b.append(",max-pending=").append(maxPending);
        }
        if (maxInFlight != 0)
        {
            b.append(",max-in-flight=").append(maxInFlight);
        }
        return b.toString();
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof UpstreamSpec s && name.equals(s.name) && port == s.port && weight == s.weight &&
            backup == s.backup && maxFails == s.maxFails && maxConnections == s.maxConnections &&
            maxPending == s.maxPending && maxInFlight == s.maxInFlight && Objects.equals(host, s.host) &&
            Objects.equals(endpoint, s.endpoint) && Objects.equals(zone, s.zone) &&
            Objects.equals(failTimeout, s.failTimeout) && Objects.equals(slowStart, s.slowStart);
    }

    @Override
    public int hashCode()
    {
        return Objects.hash(name, weight, backup, zone);
    }
}
