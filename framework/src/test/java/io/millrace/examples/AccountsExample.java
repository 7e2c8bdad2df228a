package io.millrace.examples;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.lock.LockGrid;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.StageMetrics;
import io.millrace.metrics.WorkerMetrics;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

/**
 * The complete example of docs/guide.md ("A complete example: accounts"): every placement a
 * request server needs, in one pipeline.
 *
 * <pre>
 * parse    inline          the request line "deposit 17 250" into fields, where it arrived
 * post     partitioned     the account's balance: one owner worker per partition, no lock
 * audit    blocking(32)    a 2 ms call to a (simulated) database, at most 32 threads in it
 * reply    inline          back on the home worker: the account's statement line number under a
 *                          lock-grid cell, the reply text in a pooled 64-byte buffer
 * </pre>
 *
 * {@code AccountsExampleTest} runs it and checks the outcome; {@link #main} runs 100,000 requests
 * and prints the metrics.
 */
public final class AccountsExample
{
    /** A request: a line of text, then what the stages make of it. */
    public static final class Request
    {
        final String line;
        int account;
        long cents;                 // positive: deposit, negative: withdrawal
        long balance;               // after this request, as the post stage left it
        boolean refused;            // a withdrawal larger than the balance
        long statementLine;         // the account's statement line number, from the reply stage
        BufferDescriptor reply;     // the reply, in a pooled buffer: whoever sends it releases it
        String replyText;           // what the client got (here: the completion listener reads the buffer)

        Request(final String line)
        {
            this.line = line;
        }
    }

    /** What a run leaves behind, for the test and the printout. */
    public record Result(Request[] requests, long[] balances, long[] statementLines, long audited, long auditedCents,
        long failed, long replyChunksTaken, long chunksStillOut, String metrics)
    {
    }

    static final long OPENING_BALANCE = 1_000_000;

    private AccountsExample()
    {
    }

    public static void main(final String[] args) throws InterruptedException
    {
        final Result r = run(workload(100_000, 1_000), 1_000, LeakDetector.production());
        System.out.print(r.metrics());
    }

    /** Deposits and withdrawals of 1 to 999 cents over {@code accounts} accounts, spread evenly. */
    static Request[] workload(final int requests, final int accounts)
    {
        final Request[] all = new Request[requests];
        for (int i = 0; i < requests; i++)
        {
            final String verb = i % 3 == 0 ? "withdraw" : "deposit";
            all[i] = new Request(verb + " " + (i * 7919 % accounts) + " " + (1 + i * 31 % 999));
        }
        return all;
    }

    static Result run(final Request[] requests, final int accounts, final LeakDetector leaks) throws InterruptedException
    {
        final long[] balances = new long[accounts];            // written only by the account's partition owner
        Arrays.fill(balances, OPENING_BALANCE);
        final long[] statementLines = new long[accounts];      // written by any worker, under the account's grid cell
        final StringBuilder[] text = new StringBuilder[64];    // one per worker: replies are formatted without garbage
        final LongAdder audited = new LongAdder();
        final LongAdder auditedCents = new LongAdder();
        final LongAdder failed = new LongAdder();
        final CountDownLatch done = new CountDownLatch(requests.length);
        for (int i = 0; i < text.length; i++)
        {
            text[i] = new StringBuilder(64);
        }

        // guide:begin
        PipelineBuilder<Request> b = Pipeline.builder();
        StageRef<Request> parse = b.stage("parse");                                            // inline
        StageRef<Request> post = b.stage("post", Placement.partitioned(r -> r.account));       // owner worker
        StageRef<Request> audit = b.stage("audit", Placement.blocking(32));                    // may block
        StageRef<Request> reply = b.stage("reply");                                            // inline, at home
        LockGrid grid = LockGrid.builder().name("statements").rows(reply).columns(64).build();

        b.handle(parse, (r, ctx) -> parseLine(r) ? Outcome.next(post) : Outcome.done());
        b.handle(post, (r, ctx) -> {                       // one worker owns the account: no lock
            r.refused = balances[r.account] + r.cents < 0;
            if (!r.refused) {
                balances[r.account] += r.cents;
            }
            r.balance = balances[r.account];
            return Outcome.next(audit);
        });
        b.handle(audit, (r, ctx) -> {                      // a blocking call: a thread of the stage's 32 waits
            Thread.sleep(2);                               // the database's round trip
            audited.increment();
            auditedCents.add(r.refused ? 0 : r.cents);
            return Outcome.next(reply);
        });
        b.handle(reply, (r, ctx) -> {                      // on the home worker, any of them: take the cell
            if (!grid.acquire(ctx, r.account)) {
                return Outcome.blocked();                  // parked; this stage runs again once the cell is ours
            }
            r.statementLine = ++statementLines[r.account];
            grid.release(ctx, r.account);
            StringBuilder sb = text[ctx.workerIndex()];
            sb.setLength(0);
            sb.append(r.refused ? "refused " : "ok ").append(r.account).append(" line ").append(r.statementLine)
              .append(" balance ").append(r.balance).append('\n');
            r.reply = ctx.allocator().allocate(sb.length()).putAscii(sb);   // a 64-byte slot, not a 16 KiB chunk
            return Outcome.done();
        });

        SlabArena arena = SlabArena.builder().leakDetector(leaks).build();
        Pipeline<Request> pipeline = b.workers(2).memory(arena)
            .onComplete((r, error) -> {                    // on the worker: "send" the reply, release it
                if (error != null) {
                    failed.increment();
                }
                if (r.reply != null) {
                    r.replyText = StandardCharsets.US_ASCII.decode(r.reply.readableBuffer()).toString();
                    r.reply.release();
                    r.reply = null;
                }
                done.countDown();
            })
            .build().start();
        // guide:end
        for (final Request r : requests)
        {
            while (!pipeline.submit(r).accepted())
            {
                Thread.onSpinWait();                       // overloaded: a server would answer 503
            }
        }
        done.await();
        pipeline.shutdown(Duration.ofSeconds(10));
        final MetricsSnapshot m = pipeline.metrics();
        long chunksTaken = 0;
        long chunksOut = 0;
        for (final WorkerMetrics w : m.workers())
        {
            chunksTaken += w.bufferChunks().hits() + w.bufferChunks().misses();
            chunksOut += w.bufferChunks().live();
        }
        final String metrics = describe(m, requests.length, chunksTaken) + grid.report().table(5);
        return new Result(requests, balances, statementLines, audited.sum(), auditedCents.sum(), failed.sum(), chunksTaken,
            chunksOut, metrics);
    }

    /** "deposit 17 250" or "withdraw 17 250"; false for anything else. Allocates nothing. */
    static boolean parseLine(final Request r)
    {
        final String s = r.line;
        final int a = s.indexOf(' ');
        final int c = s.indexOf(' ', a + 1);
        if (a < 0 || c < 0)
        {
            return false;
        }
        final boolean deposit = s.startsWith("deposit ");
        if (!deposit && !s.startsWith("withdraw "))
        {
            return false;
        }
        final long account = digits(s, a + 1, c);
        final long cents = digits(s, c + 1, s.length());
        if (account < 0 || account >= Integer.MAX_VALUE || cents <= 0)
        {
            return false;
        }
        r.account = (int)account;
        r.cents = deposit ? cents : -cents;
        return true;
    }

    private static long digits(final String s, final int from, final int to)
    {
        if (from >= to || to - from > 12)
        {
            return -1;
        }
        long v = 0;
        for (int i = from; i < to; i++)
        {
            final char ch = s.charAt(i);
            if (ch < '0' || ch > '9')
            {
                return -1;
            }
            v = v * 10 + (ch - '0');
        }
        return v;
    }

    private static String describe(final MetricsSnapshot m, final int requests, final long chunksTaken)
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format("%,d requests: %,d completed, %,d failed; end to end p50 %s, p99 %s%n", requests, m.completed(),
            m.failed(), ms(m.endToEndAtPercentile(50)), ms(m.endToEndAtPercentile(99))));
        sb.append(String.format("%-6s %-14s %10s %12s %12s %12s%n", "stage", "placement", "requests", "service p50", "service p99",
            "wait p99"));
        for (final String name : new String[] {"parse", "post", "audit", "reply"})
        {
            final StageMetrics s = m.stage(name);
            sb.append(String.format("%-6s %-14s %,10d %12s %12s %12s%n", name, s.placement(), s.requests(),
                ms(s.serviceTimeAtPercentile(50)), ms(s.serviceTimeAtPercentile(99)), ms(s.queueWaitAtPercentile(99))));
        }
        sb.append(String.format("reply buffers: %,d chunks taken from the pools for the replies to %,d requests%n", chunksTaken, requests));
        return sb.toString();
    }

    private static String ms(final long nanos)
    {
        return nanos < 1_000_000 ? String.format("%.1f µs", nanos / 1e3) : String.format("%.2f ms", nanos / 1e6);
    }
}
