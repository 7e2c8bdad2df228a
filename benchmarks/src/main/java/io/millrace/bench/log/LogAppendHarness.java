package io.millrace.bench.log;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.log.Ack;
import io.millrace.log.AppendListener;
import io.millrace.log.ForceMode;
import io.millrace.log.GroupCommit;
import io.millrace.log.GroupCommitOptions;
import io.millrace.log.GroupCommitStats;
import io.millrace.log.LogOptions;
import io.millrace.log.PartitionLog;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.HdrHistogram.Histogram;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Durable appends per second through the library API (no HTTP): {@code N} appenders in a closed loop
 * (each completion submits that appender's next record at once, from the worker), to one
 * partition log owned by one of two workers (what one partition sustains), or to two, one per worker.
 *
 * <p>Modes: {@code group-worker} and {@code group-sync} (group commit, {@link Ack#DURABLE}, force on
 * the worker or on the sync thread), {@code per-record} (append then {@code flush()} for every
 * record, on the worker: what a log without group commit does), {@code none} (group commit,
 * {@link Ack#NONE}: no force at all).
 *
 * <p>Usage: {@code java -cp benchmarks.jar io.millrace.bench.log.LogAppendHarness MODE APPENDERS RECORD_BYTES SECONDS DIR [PARTITIONS]}
 * (PARTITIONS 1 or 2: with 2, each worker owns one log and the appenders alternate between them)
 * prints one line: mode, appenders, appends/s, MB/s, p50/p99 latency, appends per force.
 */
public final class LogAppendHarness
{
    /** One appender: a request object that goes round and round. */
    static final class Appender implements AppendListener
    {
        final int partition;
        /** A probe is not appended: it only visits the log's worker, to see how long that worker makes others wait. */
        boolean probe;
        long offset;
        volatile long startNanos;
        boolean failed;

        Appender(final int partition)
        {
            this.partition = partition;
        }

        @Override
        public void appended(final long o)
        {
            offset = o;
        }

        @Override
        public void appendFailed(final Throwable error)
        {
            failed = true;
        }
    }

    private LogAppendHarness()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final String mode = args[0];
        final int appenders = Integer.parseInt(args[1]);
        final int recordBytes = Integer.parseInt(args[2]);
        final double seconds = Double.parseDouble(args[3]);
        final Path dir = Files.createTempDirectory(Path.of(args[4]), "append-");
        final int partitions = args.length > 5 ? Integer.parseInt(args[5]) : 1;
        try
        {
            System.out.println(run(mode, appenders, recordBytes, seconds, dir, partitions));
        }
        finally
        {
            try (Stream<Path> files = Files.walk(dir))
            {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static String run(final String mode, final int appenders, final int recordBytes, final double seconds, final Path dir,
                      final int partitions) throws Exception
    {
        final PartitionLog[] logs = new PartitionLog[partitions];
        for (int p = 0; p < partitions; p++)
        {
            logs[p] = PartitionLog.open(dir.resolve("p" + p), LogOptions.defaults().withMaxRecordBytes(Math.max(1 << 20, recordBytes)));
        }
        final ByteBuffer payload = ByteBuffer.allocateDirect(recordBytes);
        final GroupCommit commit = new GroupCommit(GroupCommitOptions.defaults(2)
            .withForceMode(mode.equals("group-worker") ? ForceMode.WORKER : ForceMode.SYNC_THREAD)
            .withStagingBytes(Math.max(1 << 20, 8 * recordBytes)));
        final Ack ack = mode.equals("none") ? Ack.NONE : Ack.DURABLE;
        final boolean perRecord = mode.equals("per-record");
        if (!mode.matches("group-worker|group-sync|per-record|none"))
        {
            throw new IllegalArgumentException("mode is one of group-worker, group-sync, per-record, none; was " + mode);
        }
        final Histogram latency = new Histogram(3_600_000_000_000L, 3);
        final Histogram probeLatency = new Histogram(3_600_000_000_000L, 3);
        final java.util.concurrent.atomic.AtomicLong failed = new java.util.concurrent.atomic.AtomicLong();
        final PipelineBuilder<Appender> b = Pipeline.builder();
        final StageRef<Appender> route = b.stage("route");
        final StageRef<Appender> append = b.stage("append", Placement.partitioned(r -> r.partition));
        final StageRef<Appender> finish = b.stage("finish");
        b.handle(route, (r, ctx) -> Outcome.next(append));
        b.handle(append, (r, ctx) ->
        {
            if (r.probe)
            {
                return Outcome.done();
            }
            final PartitionLog log = logs[r.partition];
            if (perRecord)
            {
                r.offset = log.append(payload.duplicate());
                log.flush();
                return Outcome.next(finish);
            }
            return commit.append(ctx, log, payload.duplicate(), ack, r, finish);
        });
        b.handle(finish, (r, ctx) -> Outcome.done());
        final Pipeline<Appender>[] holder = new Pipeline[1];
        // The completion listener runs on the workers; the window's flags are atomics set by the main
        // thread, so the window's edges move by a few requests at most. The histogram is shared by the
        // two workers only with partitions=2; a lost sample there moves a percentile negligibly.
        final java.util.concurrent.atomic.AtomicBoolean measure = new java.util.concurrent.atomic.AtomicBoolean();
        final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        final java.util.concurrent.atomic.AtomicLong counted = new java.util.concurrent.atomic.AtomicLong();
        final Pipeline<Appender> pipeline = b.entry(route).name("log-bench").workers(2).partitions(2).ringSize(4096).maxInFlight(2048)
            .onComplete((r, e) ->
            {
                final long now = System.nanoTime();
                if (r.probe)
                {
                    if (measure.get())
                    {
                        synchronized (probeLatency)
                        {
                            probeLatency.recordValue(now - r.startNanos);
                        }
                    }
                    r.startNanos = 0; // free for the probe thread to send again
                    return;
                }
                if (e != null || r.failed)
                {
                    failed.incrementAndGet();
                }
                if (measure.get())
                {
                    synchronized (latency)
                    {
                        latency.recordValue(now - r.startNanos);
                    }
                    counted.incrementAndGet();
                }
                if (!stop.get())
                {
                    r.failed = false;
                    r.startNanos = System.nanoTime();
                    holder[0].submit(r);
                }
            }).build();
        holder[0] = pipeline;
        pipeline.start();
        for (int i = 0; i < appenders; i++)
        {
            final Appender a = new Appender(i % partitions);
            a.startNanos = System.nanoTime();
            if (pipeline.submit(a) != io.millrace.SubmitResult.ACCEPTED)
            {
                throw new IllegalStateException("could not start appender " + i);
            }
        }
        // The probe: one request at a time, every 200 us, to the log's worker, which only completes it.
        final Appender probe = new Appender(0);
        probe.probe = true;
        final Thread prober = Thread.ofPlatform().daemon().name("probe").start(() ->
        {
            while (!stop.get())
            {
                java.util.concurrent.locks.LockSupport.parkNanos(200_000);
                if (probe.startNanos == 0 || System.nanoTime() - probe.startNanos > 1_000_000_000L)
                {
                    probe.startNanos = System.nanoTime();
                    pipeline.submit(probe);
                }
            }
        });
        Thread.sleep((long) (Math.min(2.0, seconds / 2) * 1000)); // warm-up
        final GroupCommitStats before = commit.stats();
        measure.set(true);
        final long t0 = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        measure.set(false);
        final long t1 = System.nanoTime();
        final long n = counted.get();
        final GroupCommitStats after = commit.stats();
        stop.set(true);
        prober.join();
        pipeline.shutdown(Duration.ofSeconds(30));
        commit.close();
        for (final PartitionLog log : logs)
        {
            log.close();
        }
        final double secs = (t1 - t0) / 1e9;
        final double perSecond = n / secs;
        final long forces = after.forces() - before.forces();
        final String perForce = perRecord ? "1.0" : ack == Ack.NONE ? "-" : String.format(Locale.ROOT, "%.1f",
            (double) (after.appends() - before.appends()) / Math.max(1, forces));
        return String.format(Locale.ROOT, "%-12s partitions=%d appenders=%-4d record=%-6d appends/s=%-10.0f MB/s=%-8.1f p50=%.1fus p99=%.1fus"
                + " appends/force=%s failed=%d | other request on the log's worker: p50=%.1fus p99=%.1fus", mode, partitions,
            appenders, recordBytes, perSecond, perSecond * (recordBytes + 16) / 1e6, latency.getValueAtPercentile(50) / 1e3,
            latency.getValueAtPercentile(99) / 1e3, perForce, failed.get(), probeLatency.getValueAtPercentile(50) / 1e3,
            probeLatency.getValueAtPercentile(99) / 1e3);
    }
}
