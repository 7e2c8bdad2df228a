package com.example;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The throwaway consumer of scripts/consumer-check.sh: an application of its own that depends on
 * the installed framework through the README's pom fragment, and is run with {@code java -jar}.
 * Without the manifest's Add-Exports (or the surefire argLine, for its test) {@code build()} refuses.
 */
public final class Main {
    /** A request: an account number and the amount to add to it. */
    static final class Deposit {
        final int account;
        final long cents;

        Deposit(int account, long cents) {
            this.account = account;
            this.cents = cents;
        }
    }

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        int requests = 1_000;
        long total = run(requests);
        long expected = (long) requests * (requests + 1) / 2;
        System.out.println("consumer: " + requests + " deposits, balance total " + total + (total == expected ? " (right)" : " (WRONG)"));
        if (total != expected) {
            System.exit(1);
        }
    }

    /** Deposits 1..requests cents over 16 accounts; returns the sum of the balances. */
    static long run(int requests) throws InterruptedException {
        long[] balances = new long[16];                 // one owner worker per account: no lock
        CountDownLatch done = new CountDownLatch(requests);
        AtomicLong failures = new AtomicLong();
        PipelineBuilder<Deposit> b = Pipeline.builder();
        StageRef<Deposit> check = b.stage("check");
        StageRef<Deposit> post = b.stage("post", Placement.partitioned(16, d -> d.account));
        b.handle(check, (d, ctx) -> d.cents > 0 ? Outcome.next(post) : Outcome.done())
         .handle(post, (d, ctx) -> { balances[ctx.partition()] += d.cents; return Outcome.done(); });
        Pipeline<Deposit> pipeline = b.workers(2)
            .onComplete((d, error) -> { if (error != null) failures.incrementAndGet(); done.countDown(); })
            .build().start();
        for (int i = 1; i <= requests; i++) {
            while (!pipeline.submit(new Deposit(i % 16, i)).accepted()) {
                Thread.onSpinWait();
            }
        }
        done.await();
        pipeline.shutdown(Duration.ofSeconds(5));   // its end orders the workers' writes before our reads
        if (failures.get() != 0) {
            throw new IllegalStateException(failures.get() + " deposits failed");
        }
        long total = 0;
        for (long balance : balances) {
            total += balance;
        }
        return total;
    }
}
