package io.millrace.demo.http;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A checker for the Prometheus text exposition format 0.0.4, stricter than Prometheus itself where
 * Millrace's output should be: every sample's family has exactly one {@code # TYPE} line before its
 * first sample, at most one {@code # HELP} line, also before it, a family's lines are contiguous, counters end in {@code _total}, histograms are
 * cumulative, end in {@code +Inf} and agree with their {@code _count}; a summary's samples carry a
 * {@code quantile} from 0 to 1, increasing with non-decreasing values, and each of its series has a
 * {@code _sum} and a {@code _count} without one. Separators are single
 * spaces and no line has trailing whitespace. Used by the unit tests and the end-to-end test.
 */
public final class ExpositionGrammar
{
    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern FLOAT = Pattern.compile("[+-]?(?:(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Inf)|NaN");
    private static final Pattern TIMESTAMP = Pattern.compile("-?[0-9]+");
    private static final Pattern SAMPLE_START = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    private final Map<String, String> types = new HashMap<>();
    private final Set<String> helped = new HashSet<>();
    private final Set<String> closed = new HashSet<>();
    private final Set<String> series = new HashSet<>();
    /** Per histogram label set (without {@code le}) of the current family. */
    private final Map<String, Buckets> buckets = new LinkedHashMap<>();
    /** Per summary label set (without {@code quantile}) of the current family. */
    private final Map<String, Quantiles> quantiles = new LinkedHashMap<>();
    private String current;
    private int lineNumber;
    private String line;

    private ExpositionGrammar()
    {
    }

    /**
     * @param text an exposition
     * @throws AssertionError naming the first offending line and what is wrong with it
     */
    public static void assertValid(final String text)
    {
        if (text == null || text.isEmpty())
        {
            throw new AssertionError("empty exposition");
        }
        if (!text.endsWith("\n"))
        {
            throw new AssertionError("exposition does not end with a newline");
        }
        final ExpositionGrammar grammar = new ExpositionGrammar();
        final String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length - 1; i++)
        {
            grammar.lineNumber = i + 1;
            grammar.line = lines[i];
            grammar.line(lines[i]);
        }
        grammar.lineNumber = lines.length - 1;
        grammar.line = "(end of text)";
        grammar.closeFamily();
    }

    private static final class Buckets
    {
        double lastLe = Double.NEGATIVE_INFINITY;
        double lastCount = Double.NEGATIVE_INFINITY;
        double infCount = Double.NaN;
        double count = Double.NaN;
        boolean sum;
    }

    private static final class Quantiles
    {
        double lastQuantile = Double.NEGATIVE_INFINITY;
        double lastValue = Double.NEGATIVE_INFINITY;
        boolean count;
        boolean sum;
    }

    private void line(final String text)
    {
        if (text.isBlank())
        {
            fail("blank line");
        }
        if (text.endsWith(" ") || text.endsWith("\t"))
        {
            fail("trailing whitespace");
        }
        if (text.startsWith("# HELP ") || text.equals("# HELP"))
        {
            help(text.length() > 7 ? text.substring(7) : "");
        }
        else if (text.startsWith("# TYPE ") || text.equals("# TYPE"))
        {
            type(text.length() > 7 ? text.substring(7) : "");
        }
        else if (!text.startsWith("#"))
        {
            sample(text);
        }
    }

    private void help(final String rest)
    {
        final int space = rest.indexOf(' ');
        final String name = space < 0 ? rest : rest.substring(0, space);
        check(METRIC_NAME.matcher(name).matches(), "invalid metric name in HELP");
        check(helped.add(name), "second HELP for " + name);
        check(!hasSamples(name), "HELP after samples of " + name);
        final String doc = space < 0 ? "" : rest.substring(space + 1);
        for (int i = 0; i < doc.length(); i++)
        {
            if (doc.charAt(i) == '\\')
            {
                check(i + 1 < doc.length() && (doc.charAt(i + 1) == '\\' || doc.charAt(i + 1) == 'n'),
                    "invalid escape in HELP text");
                i++;
            }
        }
        enterFamily(name);
    }

    private void type(final String rest)
    {
        final String[] parts = rest.split(" ", -1);
        check(parts.length == 2, "TYPE needs a name and a type");
        final String name = parts[0];
        check(METRIC_NAME.matcher(name).matches(), "invalid metric name in TYPE");
        check(TYPES.contains(parts[1]), "unknown type " + parts[1]);
        check(!types.containsKey(name), "second TYPE for " + name);
        check(!hasSamples(name), "TYPE after samples of " + name);
        check(!"counter".equals(parts[1]) || name.endsWith("_total"), "counter name does not end in _total");
        types.put(name, parts[1]);
        enterFamily(name);
    }

    private boolean hasSamples(final String family)
    {
        for (final String s : series)
        {
            if (s.startsWith(family + "\u0000"))
            {
                return true;
            }
        }
        return false;
    }

    private void sample(final String text)
    {
        final Matcher m = SAMPLE_START.matcher(text);
        check(m.find(), "invalid metric name");
        final String name = m.group(1);
        int i = name.length();
        final TreeMap<String, String> labels = new TreeMap<>();
        if (i < text.length() && text.charAt(i) == '{')
        {
            i = labels(text, i + 1, labels);
        }
        check(i < text.length() && text.charAt(i) == ' ', "expected a space before the value");
        final String[] rest = text.substring(i + 1).split(" ", -1);
        check(rest.length == 1 || rest.length == 2, "expected a value and an optional timestamp");
        check(FLOAT.matcher(rest[0]).matches(), "invalid value '" + rest[0] + "'");
        check(rest.length == 1 || TIMESTAMP.matcher(rest[1]).matches(), "invalid timestamp");
        final double value = parse(rest[0]);

        final String family = familyOf(name);
        enterFamily(family);
        check(series.add(family + "\u0000" + name + labels), "duplicate series");
        final String type = types.get(family);
        if ("counter".equals(type))
        {
            check(!(value < 0), "negative counter");
        }
        else if ("histogram".equals(type))
        {
            histogramSample(name.substring(family.length()), labels, value);
        }
        else if ("summary".equals(type))
        {
            summarySample(name.substring(family.length()), labels, value);
        }
    }

    /** @return the index after the closing brace */
    private int labels(final String text, final int from, final Map<String, String> labels)
    {
        int i = from;
        while (i < text.length() && text.charAt(i) != '}')
        {
            final int eq = text.indexOf('=', i);
            check(eq > i, "label without '='");
            final String label = text.substring(i, eq);
            check(LABEL_NAME.matcher(label).matches(), "invalid label name '" + label + "'");
            check(eq + 1 < text.length() && text.charAt(eq + 1) == '"', "label value not quoted");
            final StringBuilder value = new StringBuilder();
            i = eq + 2;
            while (true)
            {
                check(i < text.length(), "unterminated label value");
                final char c = text.charAt(i++);
                if (c == '"')
                {
                    break;
                }
                if (c == '\\')
                {
                    check(i < text.length() && "\\\"n".indexOf(text.charAt(i)) >= 0, "invalid escape in label value");
                    value.append(text.charAt(i) == 'n' ? '\n' : text.charAt(i));
                    i++;
                }
                else
                {
                    value.append(c);
                }
            }
            check(labels.put(label, value.toString()) == null, "repeated label " + label);
            check(i < text.length() && (text.charAt(i) == ',' || text.charAt(i) == '}'), "expected ',' or '}' after label");
            if (text.charAt(i) == ',')
            {
                i++;
            }
        }
        check(i < text.length(), "unterminated label set");
        return i + 1;
    }

    private String familyOf(final String name)
    {
        if (types.containsKey(name))
        {
            check(!"histogram".equals(types.get(name)), "histogram sample without _bucket, _sum or _count");
            return name;
        }
        for (final String suffix : new String[] {"_bucket", "_sum", "_count"})
        {
            if (name.endsWith(suffix))
            {
                final String base = name.substring(0, name.length() - suffix.length());
                final String type = types.get(base);
                if ("histogram".equals(type) || "summary".equals(type) && !suffix.equals("_bucket"))
                {
                    return base;
                }
            }
        }
        fail("sample of " + name + " without a TYPE line before it");
        return null;
    }

    private void histogramSample(final String suffix, final TreeMap<String, String> labels, final double value)
    {
        final String le = labels.remove("le");
        final Buckets b = buckets.computeIfAbsent(labels.toString(), k -> new Buckets());
        switch (suffix)
        {
            case "_bucket" ->
            {
                check(le != null && FLOAT.matcher(le).matches(), "bucket without a numeric le label");
                check(Double.isNaN(b.infCount), "bucket after the +Inf bucket");
                final double bound = parse(le);
                check(bound > b.lastLe, "bucket bounds not increasing");
                check(value >= b.lastCount, "buckets not cumulative");
                b.lastLe = bound;
                b.lastCount = value;
                if (bound == Double.POSITIVE_INFINITY)
                {
                    b.infCount = value;
                }
            }
            case "_count" ->
            {
                check(le == null, "le label on _count");
                b.count = value;
            }
            default ->
            {
                check(le == null, "le label on _sum");
                b.sum = true;
            }
        }
    }

    private void summarySample(final String suffix, final TreeMap<String, String> labels, final double value)
    {
        final String quantile = labels.remove("quantile");
        final Quantiles q = quantiles.computeIfAbsent(labels.toString(), k -> new Quantiles());
        switch (suffix)
        {
            case "" ->
            {
                check(quantile != null && FLOAT.matcher(quantile).matches(), "summary sample without a numeric quantile label");
                final double at = parse(quantile);
                check(at >= 0 && at <= 1, "quantile outside 0 to 1");
                check(at > q.lastQuantile, "quantiles not increasing");
                check(!(value < q.lastValue), "summary values decrease with the quantile");
                q.lastQuantile = at;
                if (!Double.isNaN(value))
                {
                    q.lastValue = value;
                }
            }
            case "_count" ->
            {
                check(quantile == null, "quantile label on _count");
                check(!(value < 0), "negative summary count");
                q.count = true;
            }
            default ->
            {
                check(quantile == null, "quantile label on _sum");
                q.sum = true;
            }
        }
    }

    private void enterFamily(final String family)
    {
        if (family.equals(current))
        {
            return;
        }
        check(!closed.contains(family), "lines of family " + family + " are not contiguous");
        closeFamily();
        current = family;
    }

    private void closeFamily()
    {
        if (current == null)
        {
            return;
        }
        for (final Map.Entry<String, Buckets> e : buckets.entrySet())
        {
            final Buckets b = e.getValue();
            final String where = current + e.getKey();
            check(!Double.isNaN(b.infCount), "histogram " + where + " has no +Inf bucket");
            check(!Double.isNaN(b.count), "histogram " + where + " has no _count");
            check(b.count == b.infCount, "histogram " + where + " _count differs from its +Inf bucket");
            check(b.sum, "histogram " + where + " has no _sum");
        }
        for (final Map.Entry<String, Quantiles> e : quantiles.entrySet())
        {
            final String where = current + e.getKey();
            check(e.getValue().count, "summary " + where + " has no _count");
            check(e.getValue().sum, "summary " + where + " has no _sum");
        }
        buckets.clear();
        quantiles.clear();
        closed.add(current);
        current = null;
    }

    private static double parse(final String value)
    {
        return switch (value)
        {
            case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(value);
        };
    }

    private void check(final boolean ok, final String problem)
    {
        if (!ok)
        {
            fail(problem);
        }
    }

    private void fail(final String problem)
    {
        throw new AssertionError("line " + lineNumber + ": " + problem + ": " + line);
    }
}
