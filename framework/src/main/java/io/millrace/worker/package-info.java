/**
 * The runtime core: workers, their inbox rings, request contexts and the blocking pools.
 *
 * <p>Not API. Classes here are public only so that the builder in {@code io.millrace} can wire
 * them; users touch {@link io.millrace.Pipeline}, {@link io.millrace.PipelineBuilder} and the types
 * of {@link io.millrace.stage}.
 *
 * <p>Threading in one paragraph: a request is carried by exactly one thread at a time. It moves
 * between threads only by a publish into a worker's Disruptor ring (release on publish, acquire on
 * poll) or through a blocking stage's queue, and each move hands over every field of its
 * {@link io.millrace.worker.Exchange}. Counters are written by one owner thread each and read by any
 * thread with opaque reads.
 */
package io.millrace.worker;
