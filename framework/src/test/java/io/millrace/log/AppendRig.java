package io.millrace.log;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import io.millrace.testing.Submit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A pipeline of two workers appending to {@code topics} logs through a {@link GroupCommit}: a
 * partitioned append stage keyed by topic, then an inline stage that finishes. Every completed
 * request lands in {@link #completed}.
 */
final class AppendRig implements AutoCloseable
{
    /** One append request; it is its own listener, as the docs suggest. */
    static final class Append implements AppendListener
    {
        final int topic;
        final byte[] payload;
        final Ack ack;
        PartitionLog log;
        volatile long offset = -1;
        volatile long durableAtAck = -1;
        volatile Throwable error;
        volatile Throwable completionError;
        final AtomicLong acks = new AtomicLong();

        Append(final int topic, final byte[] payload, final Ack ack)
        {
            this.topic = topic;
            this.payload = payload;
            this.ack = ack;
        }

        @Override
        public void appended(final long o)
        {
            offset = o;
            durableAtAck = log.durableEnd();
            acks.incrementAndGet();
        }

        @Override
        public void appendFailed(final Throwable t)
        {
            error = t;
            acks.incrementAndGet();
        }
    }

    final PartitionLog[] logs;
    final GroupCommit commit;
    final Pipeline<Append> pipeline;
    final Queue<Append> completed = new ConcurrentLinkedQueue<>();

    AppendRig(final Path dir, final int topics, final LogOptions logOptions, final GroupCommitOptions options)
        throws IOException
    {
        logs = new PartitionLog[topics];
        for (int t = 0; t < topics; t++)
        {
            logs[t] = PartitionLog.open(dir.resolve("t" + t), logOptions);
        }
        commit = new GroupCommit(options);
        final PipelineBuilder<Append> b = Pipeline.builder();
        final StageRef<Append> append = b.stage("append", Placement.partitioned(r -> r.topic));
        final StageRef<Append> finish = b.stage("finish");
        b.handle(append, (r, ctx) ->
        {
            r.log = logs[r.topic];
            return commit.append(ctx, r.log, ByteBuffer.wrap(r.payload), r.ack, r, finish);
        });
        b.handle(finish, (r, ctx) -> Outcome.done());
        pipeline = b.name("appends").workers(options.workers()).partitions(8).ringSize(1024).maxInFlight(512)
            .onComplete((r, e) ->
            {
                r.completionError = e;
                completed.add(r);
            }).build().start();
    }

    void submit(final Append a)
    {
        Submit.untilAccepted(pipeline, a);
    }

    /** Shuts the pipeline down and the group commit; leaves the logs open. */
    void stop() throws InterruptedException
    {
        pipeline.shutdown(Duration.ofSeconds(20));
        commit.close();
    }

    @Override
    public void close() throws Exception
    {
        stop();
        for (final PartitionLog l : logs)
        {
            l.close();
        }
    }
}
