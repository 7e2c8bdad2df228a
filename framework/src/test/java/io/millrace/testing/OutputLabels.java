package io.millrace.testing;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Labels what tests print, in the surefire report files
 * ({@code target/surefire-reports/<class>-output.txt}): many tests provoke failures on purpose (a
 * leaked buffer, an exhausted arena, a throwing handler) and the runtime logs them at ERROR, as it
 * would in production. Without a label such a line reads like a failure. So the first line a test
 * prints is preceded by a header naming the test, and after the test a footer says how it ended:
 * a test that passed expected every line between the two.
 *
 * <p>A test that prints nothing gets no label and, as before, no output file. Registered with the
 * JUnit Platform launcher through {@code META-INF/services}; the same class is in each test module (framework, demo-server).
 *
 * <p>Threading: any thread may print; the streams take one lock per write so that a header is
 * written once and whole. Output from threads still running after their test ended is passed
 * through unlabelled.
 */
public final class OutputLabels implements TestExecutionListener
{
    private static final Object LOCK = new Object();
    /** The running test, or null between tests. Guarded by {@link #LOCK}. */
    private static String current;
    /** Whether the running test printed anything yet. Guarded by {@link #LOCK}. */
    private static boolean printed;
    private static PrintStream rawOut;

    @Override
    public void testPlanExecutionStarted(final TestPlan testPlan)
    {
        synchronized (LOCK)
        {
            if (rawOut == null)
            {
                rawOut = System.out;
                System.setOut(new PrintStream(new Labelling(System.out), true, StandardCharsets.UTF_8));
                System.setErr(new PrintStream(new Labelling(System.err), true, StandardCharsets.UTF_8));
            }
        }
    }

    @Override
    public void executionStarted(final TestIdentifier id)
    {
        if (id.isTest())
        {
            synchronized (LOCK)
            {
                current = name(id);
                printed = false;
            }
        }
    }

    @Override
    public void executionFinished(final TestIdentifier id, final TestExecutionResult result)
    {
        if (!id.isTest())
        {
            return;
        }
        synchronized (LOCK)
        {
            if (printed && rawOut != null)
            {
                rawOut.println("---- end of " + current + ": " + switch (result.getStatus())
                {
                    case SUCCESSFUL -> "PASSED, so what it printed above, errors included, was expected ----";
                    case ABORTED -> "SKIPPED ----";
                    case FAILED -> "FAILED: " + result.getThrowable().map(Throwable::toString).orElse("") + " ----";
                });
                rawOut.flush();
            }
            current = null;
            printed = false;
        }
    }

    private static String name(final TestIdentifier id)
    {
        final String legacy = id.getLegacyReportingName();
        final String uid = id.getUniqueId();
        final int at = uid.indexOf("[class:");
        final String cls = at < 0 ? "" : uid.substring(at + 7, uid.indexOf(']', at)).replaceFirst("^.*\\.", "");
        return cls.isEmpty() ? legacy : cls + "." + legacy;
    }

    /** Passes bytes on, first writing the running test's header if it has not printed yet. */
    private static final class Labelling extends OutputStream
    {
        private final PrintStream target;

        Labelling(final PrintStream target)
        {
            this.target = target;
        }

        @Override
        public void write(final int b) throws IOException
        {
            synchronized (LOCK)
            {
                header();
                target.write(b);
            }
        }

        @Override
        public void write(final byte[] b, final int off, final int len) throws IOException
        {
            synchronized (LOCK)
            {
                header();
                target.write(b, off, len);
            }
        }

        @Override
        public void flush()
        {
            target.flush();
        }

        private void header()
        {
            if (current != null && !printed)
            {
                printed = true;
                target.println("---- " + current + ": its output follows (the end line says whether it passed) ----");
            }
        }
    }
}
