import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The short console summary of ./run-tests, run with the JDK's source launcher (no build needed):
 *
 * <pre>
 *   java scripts/RunSummary.java tests MODULE...   one line per module from its surefire XML reports,
 *                                                  every skipped test with its reason, every failed
 *                                                  test with its message and report files; exits 1 if
 *                                                  a test failed, and prints "TOTAL passed failed skipped"
 *                                                  last, for the script's closing line
 *   java scripts/RunSummary.java smoke FILE.json   one line per benchmark of a JMH JSON result
 * </pre>
 */
public final class RunSummary
{
    private RunSummary()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        if (args.length >= 1 && args[0].equals("tests"))
        {
            System.exit(tests(List.of(args).subList(1, args.length)));
        }
        else if (args.length == 2 && args[0].equals("smoke"))
        {
            smoke(Path.of(args[1]));
        }
        else
        {
            System.err.println("usage: java scripts/RunSummary.java tests MODULE... | smoke FILE.json");
            System.exit(2);
        }
    }

    // ------------------------------------------------------------------ surefire reports

    private static int tests(final List<String> modules) throws Exception
    {
        long allPassed = 0;
        long allFailed = 0;
        long allSkipped = 0;
        for (final String module : modules)
        {
            final Path reports = Path.of(module, "target", "surefire-reports");
            final List<Path> files = new ArrayList<>();
            if (Files.isDirectory(reports))
            {
                try (Stream<Path> s = Files.list(reports))
                {
                    s.filter(p -> p.getFileName().toString().matches("TEST-.*\\.xml")).sorted().forEach(files::add);
                }
            }
            if (files.isEmpty())
            {
                System.out.println(module + ": no unit test reports");
                continue;
            }
            long tests = 0;
            long failed = 0;
            long skipped = 0;
            double seconds = 0;
            final List<String> skips = new ArrayList<>();
            final List<String> failures = new ArrayList<>();
            for (final Path file : files)
            {
                final Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
                final Element suite = doc.getDocumentElement();
                seconds += number(suite.getAttribute("time"));
                final NodeList cases = suite.getElementsByTagName("testcase");
                for (int i = 0; i < cases.getLength(); i++)
                {
                    final Element c = (Element)cases.item(i);
                    tests++;
                    final String name = c.getAttribute("classname") + "." + c.getAttribute("name");
                    final Element skip = child(c, "skipped");
                    final Element failure = child(c, "failure") != null ? child(c, "failure") : child(c, "error");
                    if (failure != null)
                    {
                        failed++;
                        failures.add(failureLine(module, reports, c, name, failure));
                    }
                    else if (skip != null)
                    {
                        skipped++;
                        final String why = reason(skip);
                        skips.add("  skipped " + name + ": " + (why.isEmpty() ? "(no reason given)" : why));
                    }
                }
            }
            final long passed = tests - failed - skipped;
            System.out.printf(Locale.ROOT, "%s: %d tests, %d passed, %d failed, %d skipped (report files: %d, test time %.0f s)%n",
                module, tests, passed, failed, skipped, files.size(), seconds);
            skips.forEach(System.out::println);
            failures.forEach(System.out::println);
            allPassed += passed;
            allFailed += failed;
            allSkipped += skipped;
        }
        System.out.println("TOTAL " + allPassed + " " + allFailed + " " + allSkipped);
        return allFailed > 0 ? 1 : 0;
    }

    private static String failureLine(final String module, final Path reports, final Element testcase, final String name,
        final Element failure)
    {
        String message = firstLine(failure.getAttribute("message"));
        if (message.isEmpty())
        {
            message = failure.getAttribute("type");
        }
        final String cls = testcase.getAttribute("classname");
        final StringBuilder sb = new StringBuilder("  FAILED ").append(name).append(": ").append(message)
            .append("\n         report: ").append(reports.resolve(cls + ".txt"));
        final Path output = reports.resolve(cls + "-output.txt");
        if (Files.exists(output))
        {
            sb.append(", its output: ").append(output);
        }
        return sb.toString();
    }

    /**
     * Why a test was skipped: the message of {@code @Disabled("...")}, or of a failed assumption,
     * which surefire puts in the element's text as the exception's first line.
     */
    private static String reason(final Element skipped)
    {
        String why = firstLine(skipped.getAttribute("message"));
        if (why.isEmpty())
        {
            why = firstLine(skipped.getTextContent()).replaceFirst("^org\\.opentest4j\\.TestAbortedException: ", "");
        }
        return why;
    }

    private static Element child(final Element parent, final String tag)
    {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling())
        {
            if (n instanceof Element e && e.getTagName().equals(tag))
            {
                return e;
            }
        }
        return null;
    }

    private static String firstLine(final String text)
    {
        final String t = text == null ? "" : text.strip();
        final int nl = t.indexOf('\n');
        final String line = nl < 0 ? t : t.substring(0, nl).strip();
        return line.length() > 200 ? line.substring(0, 200) + " ..." : line;
    }

    private static double number(final String text)
    {
        try
        {
            return Double.parseDouble(text.replace(",", ""));
        }
        catch (final NumberFormatException ex)
        {
            return 0;
        }
    }

    // ------------------------------------------------------------------ JMH JSON

    @SuppressWarnings("unchecked")
    private static void smoke(final Path json) throws IOException
    {
        final List<Object> results = (List<Object>)new Json(Files.readString(json)).value();
        for (final Object o : results)
        {
            final Map<String, Object> r = (Map<String, Object>)o;
            final String benchmark = ((String)r.get("benchmark")).replaceFirst("^.*\\.([^.]+\\.[^.]+)$", "$1");
            final StringBuilder params = new StringBuilder();
            final Object p = r.get("params");
            if (p instanceof Map<?, ?> map)
            {
                map.forEach((k, v) -> params.append(' ').append(k).append('=').append(v));
            }
            final Map<String, Object> primary = (Map<String, Object>)r.get("primaryMetric");
            System.out.printf(Locale.ROOT, "  %s%s: %s %s%n", benchmark, params, significant((Double)primary.get("score")),
                primary.get("scoreUnit"));
        }
    }

    private static String significant(final double v)
    {
        if (v == 0 || Double.isNaN(v))
        {
            return String.valueOf(v);
        }
        return new java.math.BigDecimal(v).round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString();
    }

    /** Just enough JSON for JMH's result file: objects, arrays, strings, numbers, true, false, null. */
    private static final class Json
    {
        private final String s;
        private int i;

        Json(final String text)
        {
            this.s = text;
        }

        Object value()
        {
            skip();
            final char c = s.charAt(i);
            switch (c)
            {
                case '{':
                    return object();
                case '[':
                    return array();
                case '"':
                    return string();
                default:
                    if (s.startsWith("true", i))
                    {
                        i += 4;
                        return Boolean.TRUE;
                    }
                    if (s.startsWith("false", i))
                    {
                        i += 5;
                        return Boolean.FALSE;
                    }
                    if (s.startsWith("null", i))
                    {
                        i += 4;
                        return null;
                    }
                    final int start = i;
                    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0)
                    {
                        i++;
                    }
                    if (start == i)
                    {
                        throw new IllegalArgumentException("JSON: unexpected '" + c + "' at " + i);
                    }
                    return Double.parseDouble(s.substring(start, i));
            }
        }

        private Map<String, Object> object()
        {
            final Map<String, Object> m = new LinkedHashMap<>();
            i++;
            skip();
            if (s.charAt(i) == '}')
            {
                i++;
                return m;
            }
            for (;;)
            {
                skip();
                final String key = string();
                skip();
                expect(':');
                m.put(key, value());
                skip();
                if (s.charAt(i++) == '}')
                {
                    return m;
                }
            }
        }

        private List<Object> array()
        {
            final List<Object> l = new ArrayList<>();
            i++;
            skip();
            if (s.charAt(i) == ']')
            {
                i++;
                return l;
            }
            for (;;)
            {
                l.add(value());
                skip();
                if (s.charAt(i++) == ']')
                {
                    return l;
                }
            }
        }

        private String string()
        {
            expect('"');
            final StringBuilder sb = new StringBuilder();
            for (;;)
            {
                final char c = s.charAt(i++);
                if (c == '"')
                {
                    return sb.toString();
                }
                if (c == '\\')
                {
                    final char e = s.charAt(i++);
                    switch (e)
                    {
                        case 'n' -> sb.append('\n');
                        case 't' -> sb.append('\t');
                        case 'r' -> sb.append('\r');
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'u' ->
                        {
                            sb.append((char)Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> sb.append(e);
                    }
                }
                else
                {
                    sb.append(c);
                }
            }
        }

        private void expect(final char c)
        {
            if (s.charAt(i) != c)
            {
                throw new IllegalArgumentException("JSON: expected '" + c + "' at " + i + ", found '" + s.charAt(i) + "'");
            }
            i++;
        }

        private void skip()
        {
            while (i < s.length() && Character.isWhitespace(s.charAt(i)))
            {
                i++;
            }
        }
    }
}
