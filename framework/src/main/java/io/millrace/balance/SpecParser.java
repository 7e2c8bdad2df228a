package io.millrace.balance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The text form of {@link UpstreamSpec}: {@code host:port[,param]...}, and upstream files of such
 * lines. Every error names the offending part and what is allowed.
 */
final class SpecParser
{
    private static final String KNOWN = "weight=N, backup, zone=LABEL, max-fails=N, fail-timeout=T, slow-start=T, " +
        "max-conns=N, max-pending=N, max-in-flight=N";
    private static final Pattern HOST_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\\.?");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-f:.]+(%[A-Za-z0-9._-]+)?");
    private static final Pattern TIME_PART = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

    private SpecParser()
    {
    }

    static UpstreamSpec parse(final String text)
    {
        final String trimmed = text.strip();
        if (trimmed.isEmpty())
        {
            throw new IllegalArgumentException("empty upstream: give host:port[,weight=N][,backup][,zone=LABEL]...");
        }
        final String[] parts = trimmed.split(",", -1);
        UpstreamSpec spec = address(parts[0].strip());
        final Set<String> seen = new HashSet<>();
        for (int i = 1; i < parts.length; i++)
        {
            final String part = parts[i].strip();
            final int eq = part.indexOf('=');
            final String key = (eq < 0 ? part : part.substring(0, eq)).strip().toLowerCase(Locale.ROOT).replace('_', '-');
            final String value = eq < 0 ? null : part.substring(eq + 1).strip();
            if (part.isEmpty())
            {
                throw new IllegalArgumentException(trimmed + ": empty parameter (two commas, or a trailing one)");
            }
            if (!seen.add(key))
            {
                throw new IllegalArgumentException(trimmed + ": '" + key + "' is given twice");
            }
            spec = apply(trimmed, spec, key, value);
        }
        return spec;
    }

    private static UpstreamSpec apply(final String text, final UpstreamSpec spec, final String key, final String value)
    {
        if (key.equals("backup"))
        {
            if (value != null)
            {
                throw new IllegalArgumentException(text + ": 'backup' takes no value");
            }
            return spec.withBackup(true);
        }
        if (value == null || value.isEmpty())
        {
            if (!isKnown(key))
            {
                throw unknown(text, key);
            }
            throw new IllegalArgumentException(text + ": '" + key + "' needs a value, as " + key + "=...");
        }
        return switch (key)
        {
            case "weight" -> spec.withWeight(number(text, key, value));
            case "zone" -> spec.withZone(value);
            case "max-fails" -> spec.withMaxFails(number(text, key, value));
            case "fail-timeout" -> spec.withFailTimeout(time(text, key, value));
            case "slow-start" -> spec.withSlowStart(time(text, key, value));
            case "max-conns", "max-connections" ->
                spec.withLimits(number(text, key, value), spec.maxPending(), spec.maxInFlight());
            case "max-pending" -> spec.withLimits(spec.maxConnections(), number(text, key, value), spec.maxInFlight());
            case "max-in-flight" -> spec.withLimits(spec.maxConnections(), spec.maxPending(), number(text, key, value));
            default -> throw unknown(text, key);
        };
    }

    private static boolean isKnown(final String key)
    {
        return switch (key)
        {
            case "weight", "zone", "max-fails", "fail-timeout", "slow-start", "max-conns", "max-connections",
                 "max-pending", "max-in-flight" -> true;
            default -> false;
        };
    }

    private static IllegalArgumentException unknown(final String text, final String key)
    {
        return new IllegalArgumentException(text + ": unknown parameter '" + key + "'; known: " + KNOWN);
    }

    private static UpstreamSpec address(final String address)
    {
        final String host;
        final String port;
        if (address.startsWith("["))
        {
            final int close = address.indexOf(']');
            if (close < 0 || close + 1 >= address.length() || address.charAt(close + 1) != ':')
            {
                throw new IllegalArgumentException("'" + address + "': an IPv6 upstream is written [address]:port");
            }
            host = address.substring(1, close);
            port = address.substring(close + 2);
        }
        else
        {
            final int colon = address.lastIndexOf(':');
            if (colon < 0)
            {
                throw new IllegalArgumentException("'" + address + "' has no port: write host:port, e.g. 127.0.0.1:9001");
            }
            host = address.substring(0, colon);
            port = address.substring(colon + 1);
            if (host.indexOf(':') >= 0)
            {
                throw new IllegalArgumentException("'" + address + "': put an IPv6 address in brackets, [address]:port");
            }
        }
        final int p;
        try
        {
            p = Integer.parseInt(port);
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException("'" + address + "': port '" + port + "' is not a number 1 to 65535");
        }
        return UpstreamSpec.of(host, p);
    }

    /** @return the host lower-cased, if it is a host name, an IPv4 address or an IPv6 address (brackets removed) */
    static String checkHost(final String host)
    {
        String h = host.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]"))
        {
            h = h.substring(1, h.length() - 1);
        }
        final boolean ok = h.indexOf(':') >= 0 ? IPV6.matcher(h).matches() && h.length() <= 64
            : !h.isEmpty() && h.length() <= 253 && HOST_NAME.matcher(h).matches();
        if (!ok)
        {
            throw new IllegalArgumentException("'" + host + "' is not a host name, IPv4 or IPv6 address");
        }
        return h;
    }

    private static int number(final String text, final String key, final String value)
    {
        try
        {
            return Integer.parseInt(value);
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(text + ": " + key + "='" + value + "' is not a whole number");
        }
    }

    /** @return a time of one or more number-unit pairs: 500ms, 10s, 1m30s */
    static Duration time(final String text, final String key, final String value)
    {
        final java.util.regex.Matcher m = TIME_PART.matcher(value);
        long millis = 0;
        int at = 0;
        while (at < value.length() && m.find(at) && m.start() == at)
        {
            final long n = Long.parseLong(m.group(1));
            millis += switch (m.group(2))
            {
                case "ms" -> n;
                case "s" -> n * 1_000;
                case "m" -> n * 60_000;
                default -> n * 3_600_000;
            };
            at = m.end();
        }
        if (at == 0 || at != value.length())
        {
            throw new IllegalArgumentException(text + ": " + key + "='" + value + "' is not a time: use number-unit " +
                "pairs with units ms, s, m, h, e.g. 500ms, 10s, 1m30s");
        }
        return Duration.ofMillis(millis);
    }

    static List<UpstreamSpec> parseLines(final List<String> lines)
    {
        final List<UpstreamSpec> specs = new ArrayList<>();
        final Map<String, Integer> firstLine = new HashMap<>();
        for (int i = 0; i < lines.size(); i++)
        {
            String line = lines.get(i);
            final int hash = line.indexOf('#');
            if (hash >= 0)
            {
                line = line.substring(0, hash);
            }
            if (line.isBlank())
            {
                continue;
            }
            final UpstreamSpec spec;
            try
            {
                spec = parse(line);
            }
            catch (final IllegalArgumentException e)
            {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage(), e);
            }
            final Integer before = firstLine.putIfAbsent(spec.name(), i + 1);
            if (before != null)
            {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + spec.name() + " is already on line " + before +
                    "; list each upstream once");
            }
            specs.add(spec);
        }
        return specs;
    }
}
