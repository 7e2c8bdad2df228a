package io.millrace.stage;

import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * Where a stage runs.
 *
 * <ul>
 *   <li>{@link #inline()}: on the worker that carries the request, at once, in the same loop turn:
 *       no queue and no thread switch.</li>
 *   <li>{@link #partitioned(ToIntFunction)}: the stage's data set is split into P partitions
 *       (a power of two, at least the worker count), each owned by one worker; a request goes to the
 *       owner of its key's partition. Data owned by a partition needs no lock, and requests with the
 *       same key that enter the stage from one thread keep their order.</li>
 *   <li>{@link #blocking(int)}: for code that must block (JDBC, legacy clients): a pool of at most
 *       {@code n} active threads; when the stage returns, the request re-enters its home worker
 *       through that worker's inbox.</li>
 *   <li>{@link #onWorker(ToIntFunction)}: on the worker the request names, for state that one
 *       worker owns outright, such as a network connection: the stage that writes a response runs
 *       on the connection's worker even when an earlier stage ran on a partition owner.</li>
 * </ul>
 *
 * @param <R> the request type
 */
public sealed interface Placement<R> permits Placement.Inline, Placement.Partitioned, Placement.Pinned, Placement.Blocking
{
    /**
     * @param <R> the request type
     * @return the inline placement
     */
    @SuppressWarnings("unchecked")
    static <R> Placement<R> inline()
    {
        return (Placement<R>)Inline.INSTANCE;
    }

    /**
     * Partitioned with the pipeline's default partition count.
     *
     * @param key the request's key; requests with equal keys share a partition
     * @param <R> the request type
     * @return a partitioned placement
     */
    static <R> Placement<R> partitioned(final ToIntFunction<? super R> key)
    {
        return new Partitioned<>(0, key);
    }

    /**
     * Partitioned with an explicit partition count.
     *
     * @param partitions P, a power of two and at least the pipeline's worker count
     * @param key        the request's key; requests with equal keys share a partition
     * @param <R>        the request type
     * @return a partitioned placement
     */
    static <R> Placement<R> partitioned(final int partitions, final ToIntFunction<? super R> key)
    {
        if (partitions <= 0 || Integer.bitCount(partitions) != 1)
        {
            throw new IllegalArgumentException("partitions must be a positive power of two, was " + partitions);
        }
        return new Partitioned<>(partitions, key);
    }

    /**
     * Pinned to a worker the request names: the request moves there (one ring publish) unless it is
     * already on it.
     *
     * @param workerIndex the index of the worker to run on, from 0 to workers - 1; an index out of
     *                    range completes the request with an {@link IllegalArgumentException}
     * @param <R>         the request type
     * @return a pinned placement
     */
    static <R> Placement<R> onWorker(final ToIntFunction<? super R> workerIndex)
    {
        return new Pinned<>(workerIndex);
    }

    /**
     * Blocking, with at most {@code maxActiveThreads} running the stage at once.
     *
     * @param maxActiveThreads the bound on threads blocked in this stage, at least 1
     * @param <R>              the request type
     * @return a blocking placement
     */
    static <R> Placement<R> blocking(final int maxActiveThreads)
    {
        if (maxActiveThreads < 1)
        {
            throw new IllegalArgumentException("blocking(n) needs n >= 1, was " + maxActiveThreads);
        }
        return new Blocking<>(maxActiveThreads);
    }

    /**
     * Inline placement.
     *
     * @param <R> the request type
     */
    record Inline<R>() implements Placement<R>
    {
        static final Inline<?> INSTANCE = new Inline<>();

        @Override
        public String toString()
        {
            return "inline";
        }
    }

    /**
     * Partitioned placement.
     *
     * @param partitions P, or 0 for the pipeline's default
     * @param key        key function
     * @param <R>        the request type
     */
    record Partitioned<R>(int partitions, ToIntFunction<? super R> key) implements Placement<R>
    {
        /**
         * @param partitions P, or 0 for the pipeline's default
         * @param key        key function
         */
        public Partitioned
        {
            Objects.requireNonNull(key, "partitioned(key): the key function must not be null");
        }

        @Override
        public String toString()
        {
            return partitions == 0 ? "partitioned" : "partitioned(" + partitions + ")";
        }
    }

    /**
     * Pinned placement: runs on the worker that {@link #workerIndex} names.
     *
     * @param workerIndex the worker index function
     * @param <R>         the request type
     */
    record Pinned<R>(ToIntFunction<? super R> workerIndex) implements Placement<R>
    {
        /**
         * @param workerIndex the worker index function
         */
        public Pinned
        {
            Objects.requireNonNull(workerIndex, "onWorker(null): pass a function from request to worker index");
        }

        @Override
        public String toString()
        {
            return "onWorker";
        }
    }

    /**
     * Blocking placement.
     *
     * @param maxActiveThreads bound on active threads
     * @param <R>              the request type
     */
    record Blocking<R>(int maxActiveThreads) implements Placement<R>
    {
        @Override
        public String toString()
        {
            return "blocking(" + maxActiveThreads + ")";
        }
    }
}
