package io.millrace.net;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.SubmitResult;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.millrace.metrics.WorkerMetrics;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Test fixture: a server built like a real one. Each read becomes a request that runs
 * route (inline, on the connection's worker) -> owned (partitioned by the connection id, so often on
 * the other worker) -> reply (pinned back to the connection's worker), which echoes the bytes or,
 * for a message starting with 'F', answers {@link #FLOOD_BYTES} bytes.
 */
final class EchoServer implements ConnectionHandler, AutoCloseable
{
    static final int FLOOD_BYTES = 256 * 1024;

    static final class Message
    {
        final Connection connection;
        final BufferChain data;
        Thread routedOn;
        Thread ownedOn;

        Message(final Connection connection, final BufferChain data)
        {
            this.connection = connection;
            this.data = data;
        }
    }

    final LeakDetector leaks = LeakDetector.paranoid();
    final Set<Integer> workersThatOpened = ConcurrentHashMap.newKeySet();
    final Set<String> ownersSeen = ConcurrentHashMap.newKeySet();
    final TcpServer server;
    final Pipeline<Message> pipeline;
    private final Consumer<Connection> onOpen;

    EchoServer(final int workers, final Consumer<TcpServerBuilder> config, final Consumer<Connection> onOpen)
    {
        this.onOpen = onOpen;
        final TcpServerBuilder sb = TcpServer.builder(this);
        config.accept(sb);
        this.server = sb.build();
        final PipelineBuilder<Message> b = Pipeline.builder();
        final StageRef<Message> route = b.stage("route");
        final StageRef<Message> owned = b.stage("owned", Placement.partitioned(m -> (int)m.connection.id()));
        final StageRef<Message> reply = b.stage("reply", Placement.onWorker(m -> m.connection.workerIndex()));
        b.handle(route, (m, ctx) ->
        {
            m.routedOn = Thread.currentThread();
            return Outcome.next(owned);
        });
        b.handle(owned, (m, ctx) ->
        {
            m.ownedOn = Thread.currentThread();
            ownersSeen.add(Thread.currentThread().getName());
            return Outcome.next(reply);
        });
        b.handle(reply, (m, ctx) ->
        {
            if (Thread.currentThread() != m.routedOn)
            {
                throw new AssertionError("reply ran on " + Thread.currentThread() + ", not the connection's worker");
            }
            final BufferDescriptor first = m.data.first();
            if (first != null && first.readableBuffer().get(first.readableBuffer().position()) == 'F')
            {
                m.data.release();
                m.connection.write(flood(ctx.allocator()));
            }
            else
            {
                m.connection.write(m.data);
            }
            return Outcome.done();
        });
        this.pipeline = b.name("echo").workers(workers).idle(Idle.backoff())
            .memory(SlabArena.builder().chunkSize(16 * 1024).slabSize(1 << 20).maxSlabs(64).leakDetector(leaks).build())
            .io(server)
            .onComplete((m, error) ->
            {
                if (error != null)
                {
                    m.connection.close();
                }
            })
            .build().start();
    }

    private static BufferChain flood(final io.millrace.memory.BufferAllocator allocator)
    {
        final BufferChain chain = allocator.newChain();
        final ByteBuffer filler = ByteBuffer.allocate(16 * 1024);
        int left = FLOOD_BYTES;
        while (left > 0)
        {
            final BufferDescriptor d = allocator.allocate();
            filler.clear().limit(Math.min(left, d.writableBytes()));
            left -= d.put(filler);
            chain.append(d);
        }
        return chain;
    }

    int port()
    {
        return server.localAddress().getPort();
    }

    @Override
    public void onOpen(final Connection connection)
    {
        workersThatOpened.add(connection.workerIndex());
        onOpen.accept(connection);
    }

    @Override
    public void onRead(final Connection connection)
    {
        final BufferChain in = connection.inbound();
        if (in.readableBytes() == 0)
        {
            return;
        }
        final BufferChain data = connection.allocator().newChain();
        data.append(in);
        final Message m = new Message(connection, data);
        if (pipeline.submit(m) != SubmitResult.ACCEPTED)
        {
            data.release();
            connection.close();
        }
    }

    /** Chunks held by buffers now, over all workers; exact once the pipeline stopped. */
    long chunksInUse()
    {
        long live = 0;
        for (final WorkerMetrics w : pipeline.metrics().workers())
        {
            live += w.bufferChunks().live();
        }
        return live;
    }

    @Override
    public void close()
    {
        pipeline.shutdown(Duration.ofSeconds(10));
    }
}
