package io.millrace.bench.peer;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The Netty peer of {@code benchmarks/peer-load.sh}: a minimal HTTP/1.1 server written the way the
 * TechEmpower plaintext entry for Netty is ({@link HttpServerCodec}, a response whose body is built
 * once and sent as a retained duplicate, writes flushed once per read batch in
 * {@code channelReadComplete}), plus {@code /files/<name>} for the static-file rows: the regular
 * files of one directory, opened once at start (an open-file cache that never revalidates, which
 * is kinder to Netty than nginx's) and sent as a {@link io.netty.channel.DefaultFileRegion}
 * (sendfile with either transport). Anything else is 404. The headers match the Millrace demo's
 * and nginx's in kind (Date, Server, Content-Type, Content-Length) and the body is the demo's
 * 14 bytes. Not a server to deploy: no path checks beyond the exact name lookup.
 *
 * <pre>
 *   java -cp benchmarks.jar io.millrace.bench.peer.NettyPlaintextServer --transport epoll|nio \
 *        --port 18080 --threads 2 --root DIR
 * </pre>
 *
 * Threading: one event-loop group of {@code --threads} threads, which also accept (as the
 * TechEmpower entry does); the file map is built before the server starts and only read after.
 */
public final class NettyPlaintextServer
{
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'",
        java.util.Locale.US);

    /** The current Date header value; written by a once-a-second task, read by every event loop. */
    private static volatile AsciiString date = new AsciiString(HTTP_DATE.format(
        ZonedDateTime.now(ZoneOffset.UTC)));

    private NettyPlaintextServer()
    {
    }

    /**
     * @param args {@code --transport epoll|nio --port N --threads N --root DIR --address A}
     * @throws Exception if the server cannot start
     */
    public static void main(final String[] args) throws Exception
    {
        String transport = "epoll";
        String address = "127.0.0.1";
        int port = 8080;
        int threads = Runtime.getRuntime().availableProcessors();
        Path root = Path.of(".");
        for (int i = 0; i < args.length; i += 2)
        {
            if (i + 1 >= args.length)
            {
                throw new IllegalArgumentException("flag " + args[i] + " needs a value");
            }
            switch (args[i])
            {
                case "--transport" -> transport = args[i + 1];
                case "--address" -> address = args[i + 1];
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--root" -> root = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown flag " + args[i] +
                    ": use --transport epoll|nio, --port, --threads, --root, --address");
            }
        }
        final IoHandlerFactory io;
        final Class<? extends ServerChannel> channel;
        switch (transport)
        {
            case "epoll" ->
            {
                Epoll.ensureAvailability();
                io = EpollIoHandler.newFactory();
                channel = EpollServerSocketChannel.class;
            }
            case "nio" ->
            {
                io = NioIoHandler.newFactory();
                channel = NioServerSocketChannel.class;
            }
            default -> throw new IllegalArgumentException("--transport is epoll or nio, not " + transport);
        }
        final Map<String, FileChannel> files = openFiles(root);
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, io);
        // The Date header, formatted once a second as the TechEmpower entry does, not per response.
        group.scheduleAtFixedRate(() -> date = new AsciiString(HTTP_DATE.format(
            ZonedDateTime.now(ZoneOffset.UTC))), 0, 1, TimeUnit.SECONDS);
        try
        {
            final ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(channel)
                .option(ChannelOption.SO_BACKLOG, 8192)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>()
                {
                    @Override
                    protected void initChannel(final SocketChannel ch)
                    {
                        final ChannelPipeline p = ch.pipeline();
                        p.addLast("codec", new HttpServerCodec());
                        p.addLast("handler", new Handler(files));
                    }
                });
            final Channel server = b.bind(new InetSocketAddress(address, port)).sync().channel();
            System.out.println("netty " + Netty.VERSION + " " + transport + " listening on " + server.localAddress() +
                " with " + threads + " event-loop threads, " + files.size() + " files from " + root);
            server.closeFuture().sync();
        }
        finally
        {
            group.shutdownGracefully();
        }
    }

    private static Map<String, FileChannel> openFiles(final Path root) throws IOException
    {
        final Map<String, FileChannel> files = new HashMap<>();
        if (!Files.isDirectory(root))
        {
            return files;
        }
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(root))
        {
            for (final Path p : dir)
            {
                if (Files.isRegularFile(p))
                {
                    files.put("/files/" + p.getFileName(), FileChannel.open(p, StandardOpenOption.READ));
                }
            }
        }
        return files;
    }

    /** The Netty version on the class path, for the start line. */
    private static final class Netty
    {
        static final String VERSION = io.netty.util.Version.identify().values().stream().findFirst()
            .map(io.netty.util.Version::artifactVersion).orElse("(version unknown)");
    }

    /** One per connection, like the TechEmpower entry's handler. */
    private static final class Handler extends SimpleChannelInboundHandler<HttpObject>
    {
        private static final byte[] HELLO = "Hello, World!\n".getBytes(StandardCharsets.US_ASCII);
        private static final ByteBuf HELLO_BUF = Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes(HELLO));
        private static final AsciiString TEXT_PLAIN = AsciiString.cached("text/plain; charset=utf-8");
        private static final AsciiString OCTETS = AsciiString.cached("application/octet-stream");
        private static final AsciiString HELLO_LENGTH = AsciiString.cached(String.valueOf(HELLO.length));
        private static final AsciiString SERVER = AsciiString.cached("netty");

        private final Map<String, FileChannel> files;

        Handler(final Map<String, FileChannel> files)
        {
            super(false);
            this.files = files;
        }

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final HttpObject msg) throws IOException
        {
            if (!(msg instanceof HttpRequest request))
            {
                // LastHttpContent of a body-less GET: nothing to release (EMPTY_LAST_CONTENT) or a
                // body chunk we do not read.
                io.netty.util.ReferenceCountUtil.release(msg);
                return;
            }
            final String uri = request.uri();
            final boolean keepAlive = HttpUtil.isKeepAlive(request);
            if ("/hello".equals(uri))
            {
                final FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    HELLO_BUF.duplicate(), false);
                r.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, TEXT_PLAIN)
                    .set(HttpHeaderNames.SERVER, SERVER)
                    .set(HttpHeaderNames.DATE, date)
                    .set(HttpHeaderNames.CONTENT_LENGTH, HELLO_LENGTH);
                write(ctx, r, keepAlive);
                return;
            }
            final FileChannel file = files.get(uri);
            if (file == null)
            {
                final FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND,
                    Unpooled.EMPTY_BUFFER, false);
                r.headers().set(HttpHeaderNames.CONTENT_LENGTH, HttpHeaderValues.ZERO).set(HttpHeaderNames.SERVER, SERVER);
                write(ctx, r, keepAlive);
                return;
            }
            final long size = file.size();
            final HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, false);
            r.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, OCTETS)
                .set(HttpHeaderNames.SERVER, SERVER)
                .set(HttpHeaderNames.DATE, date)
                .set(HttpHeaderNames.CONTENT_LENGTH, size);
            ctx.write(r, ctx.voidPromise());
            ctx.write(new SharedFileRegion(file, size), ctx.voidPromise());
            write(ctx, LastHttpContent.EMPTY_LAST_CONTENT, keepAlive);
        }

        private static void write(final ChannelHandlerContext ctx, final Object msg, final boolean keepAlive)
        {
            if (keepAlive)
            {
                ctx.write(msg, ctx.voidPromise());
            }
            else
            {
                ctx.writeAndFlush(msg).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void channelReadComplete(final ChannelHandlerContext ctx)
        {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            ctx.close();
        }
    }

    /**
     * A {@link io.netty.channel.DefaultFileRegion} over a channel that stays open for the server's
     * life: releasing the region must not close the shared file. Still a DefaultFileRegion, so the
     * epoll transport sends it with its native sendfile.
     */
    private static final class SharedFileRegion extends io.netty.channel.DefaultFileRegion
    {
        SharedFileRegion(final FileChannel file, final long count)
        {
            super(file, 0, count);
        }

        @Override
        protected void deallocate()
        {
            // The file belongs to the server's map, not to this region.
        }
    }
}
