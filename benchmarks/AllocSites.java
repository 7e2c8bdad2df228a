import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Top allocation sites of the pipeline's threads from a JFR recording's
 * {@code jdk.ObjectAllocationSample} events; run as a source file, no build:
 *
 * <pre>java benchmarks/AllocSites.java rec.jfr [top [requests]]</pre>
 *
 * <p>With the number of requests served during the recording, each share is also given in bytes
 * per request (the sampled weight of the site divided by the requests).
 *
 * <p>Each sample weighs the bytes its thread allocated since that thread's previous sample, so the
 * shares estimate where the bytes went, not how many objects. A thread's first sample in the
 * recording (in time order) is dropped: its weight reaches back to before the recording started. Only threads
 * named {@code *-worker-*} and {@code *-blocking-*} count. Three views: the allocating method (the
 * top frame, often in the JDK), the first frame in io.millrace code (the call site to change), and
 * the class allocated. A sample is taken when a thread's TLAB fills, so the resolution is about a
 * TLAB: record with a small fixed one ({@code -XX:TLABSize=16k -XX:-ResizeTLAB}) and a high
 * throttle ({@code jdk.ObjectAllocationSample#throttle=5000/s}).
 */
public final class AllocSites
{
    public static void main(final String[] args) throws IOException
    {
        final int top = args.length > 1 ? Integer.parseInt(args[1]) : 12;
        final long requests = args.length > 2 ? Long.parseLong(args[2]) : 0;
        final Map<String, Long> byMethod = new HashMap<>();
        final Map<String, Long> bySite = new HashMap<>();
        final Map<String, Long> byClass = new HashMap<>();
        final Set<Long> seen = new HashSet<>();
        long total = 0;
        long other = 0;
        long samples = 0;
        final List<RecordedEvent> events = new ArrayList<>();
        for (final RecordedEvent e : RecordingFile.readAllEvents(Path.of(args[0])))
        {
            if (e.getEventType().getName().equals("jdk.ObjectAllocationSample"))
            {
                events.add(e);
            }
        }
        events.sort(Comparator.comparing(RecordedEvent::getStartTime)); // the file is in buffer order, not time order
        for (final RecordedEvent e : events)
        {
            final RecordedThread thread = e.getThread();
            final long weight = e.getLong("weight");
            if (thread == null || !seen.add(thread.getId()))
            {
                final String name = thread == null ? "" : thread.getJavaName();
                if (name == null || !(name.contains("-worker-") || name.contains("-blocking-")))
                {
                    other += weight;
                    continue;
                }
                samples++;
                total += weight;
                final RecordedStackTrace stack = e.getStackTrace();
                final List<RecordedFrame> frames = stack == null ? List.of() : stack.getFrames();
                byMethod.merge(frames.isEmpty() ? "(no stack)" : where(frames.get(0)), weight, Long::sum);
                String site = "(no io.millrace frame)";
                for (final RecordedFrame f : frames)
                {
                    if (f.getMethod().getType().getName().startsWith("io.millrace."))
                    {
                        site = where(f);
                        break;
                    }
                }
                bySite.merge(site, weight, Long::sum);
                byClass.merge(e.getClass("objectClass").getName(), weight, Long::sum);
            }
        }
        if (total == 0)
        {
            System.out.println("   no samples on the pipeline's threads");
            return;
        }
        System.out.printf(Locale.ROOT, "   %,d samples on the pipeline's threads, %.1f MB sampled weight (other threads %.1f MB)%n",
            samples, total / 1e6, other / 1e6);
        if (requests > 0)
        {
            System.out.printf(Locale.ROOT, "   %,d requests: %.1f B/request sampled%n", requests, (double)total / requests);
        }
        print("allocating method (top frame)", byMethod, total, top, requests);
        print("first io.millrace frame", bySite, total, top, requests);
        print("class allocated", byClass, total, top, requests);
    }

    private static String where(final RecordedFrame f)
    {
        final String method = f.getMethod().getType().getName() + "." + f.getMethod().getName();
        return f.getLineNumber() > 0 ? method + ":" + f.getLineNumber() : method;
    }

    private static void print(final String title, final Map<String, Long> weights, final long total, final int top,
        final long requests)
    {
        System.out.println("   -- by " + title);
        weights.entrySet().stream()
            .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
            .limit(top)
            .forEach(w -> System.out.printf(Locale.ROOT, "   %5.1f %%%s  %s%n", 100.0 * w.getValue() / total,
                requests > 0 ? String.format(Locale.ROOT, " %8.1f B/req", (double)w.getValue() / requests) : "", w.getKey()));
    }
}
