package io.millrace.demo;

import java.lang.management.ManagementFactory;

/**
 * Heap allocation counters of the JVM as Prometheus text exposition 0.0.4 families, appended after
 * the pipeline's: the bytes each of the pipeline's threads (its workers, which also accept and do
 * the I/O, and its blocking pools) has allocated since it started, and the bytes all threads of the
 * JVM have allocated. {@code benchmarks/bytes-per-request.sh} divides their growth by the requests
 * served to get bytes allocated per request with any garbage collector.
 *
 * <p>The counts come from {@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes}, which
 * HotSpot keeps per thread and counts exactly (the used part of the thread's current TLAB
 * included). A scrape allocates too, on the worker that serves it: its parsing, this rendering
 * and its response are in the counts that the next scrape reads. Where the bean has no allocation
 * counting (not HotSpot, or switched off) this renders nothing.
 */
final class JvmText
{
    private static final com.sun.management.ThreadMXBean THREADS = threadBean();

    private JvmText()
    {
    }

    /**
     * @param pipeline the pipeline's name: its threads are {@code <name>-worker-<i>} and
     *                 {@code <name>-blocking-<stage>-<i>}
     * @param out      where the families go
     */
    static void render(final String pipeline, final StringBuilder out)
    {
        if (THREADS == null)
        {
            return;
        }
        final Thread[] threads = pipelineThreads(pipeline);
        final long[] ids = new long[threads.length];
        for (int i = 0; i < threads.length; i++)
        {
            ids[i] = threads[i].threadId();
        }
        final long[] bytes = THREADS.getThreadAllocatedBytes(ids);
        out.append("# HELP millrace_thread_allocated_bytes_total Heap bytes allocated by a live thread of the pipeline since it started")
            .append(" (a thread's count goes when the thread ends).\n")
            .append("# TYPE millrace_thread_allocated_bytes_total counter\n");
        for (int i = 0; i < threads.length; i++)
        {
            if (bytes[i] >= 0) // -1: the thread ended between the enumeration and the read
            {
                out.append("millrace_thread_allocated_bytes_total{thread=\"");
                escape(threads[i].getName(), out);
                out.append("\"} ").append(bytes[i]).append('\n');
            }
        }
        final long total = totalAllocatedBytes();
        if (total >= 0)
        {
            out.append("# HELP millrace_jvm_allocated_bytes_total Heap bytes allocated by all threads of the JVM since it started,")
                .append(" ended threads included.\n")
                .append("# TYPE millrace_jvm_allocated_bytes_total counter\n")
                .append("millrace_jvm_allocated_bytes_total ").append(total).append('\n');
        }
    }

    /** The live platform threads named like the pipeline's workers and blocking threads. */
    private static Thread[] pipelineThreads(final String pipeline)
    {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null)
        {
            root = root.getParent();
        }
        Thread[] all = new Thread[Math.max(16, Thread.activeCount() * 2)];
        int n;
        while ((n = root.enumerate(all, true)) == all.length)
        {
            all = new Thread[all.length * 2];
        }
        final String workers = pipeline + "-worker-";
        final String blocking = pipeline + "-blocking-";
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            final String name = all[i].getName();
            if (name.startsWith(workers) || name.startsWith(blocking))
            {
                all[kept++] = all[i];
            }
        }
        return java.util.Arrays.copyOf(all, kept);
    }

    private static long totalAllocatedBytes()
    {
        try
        {
            return THREADS.getTotalThreadAllocatedBytes();
        }
        catch (final UnsupportedOperationException ex)
        {
            return -1;
        }
    }

    private static com.sun.management.ThreadMXBean threadBean()
    {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean bean
            && bean.isThreadAllocatedMemorySupported())
        {
            if (!bean.isThreadAllocatedMemoryEnabled())
            {
                bean.setThreadAllocatedMemoryEnabled(true);
            }
            return bean;
        }
        return null;
    }

    private static void escape(final String value, final StringBuilder out)
    {
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            switch (c)
            {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }
}
