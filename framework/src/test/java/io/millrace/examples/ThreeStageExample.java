package io.millrace.examples;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/** The README's example, kept here so that it always compiles; {@code ThreeStageExampleTest} runs it. */
public final class ThreeStageExample
{
    /** A request: the user's own type. */
    public static final class Order
    {
        final int customer;
        long cents;
        String reply;

        Order(final int customer)
        {
            this.customer = customer;
        }
    }

    private ThreeStageExample()
    {
    }

    static long run(final int orders) throws InterruptedException
    {
        CountDownLatch done = new CountDownLatch(orders);
        PipelineBuilder<Order> b = Pipeline.builder();
        StageRef<Order> parse = b.stage("parse");                                           // inline
        StageRef<Order> price = b.stage("price", Placement.partitioned(o -> o.customer));  // owner worker
        StageRef<Order> reply = b.stage("reply");                                           // inline
        b.handle(parse, (o, ctx) -> o.customer >= 0 ? Outcome.next(price) : Outcome.done())
         .handle(price, (o, ctx) -> { o.cents = 1999; return Outcome.next(reply); })      // no lock: one owner
         .handle(reply, (o, ctx) -> { o.reply = "total " + o.cents; return Outcome.done(); });

        Pipeline<Order> pipeline = b.workers(2)
            .onComplete((o, error) -> done.countDown())
            .build().start();
        for (int i = 0; i < orders; i++) {
            while (!pipeline.submit(new Order(i % 100)).accepted()) {
                Thread.onSpinWait();                                   // overloaded: retry or shed
            }
        }
        done.await();
        pipeline.shutdown(Duration.ofSeconds(5));
        return pipeline.metrics().completed();
    }
}
