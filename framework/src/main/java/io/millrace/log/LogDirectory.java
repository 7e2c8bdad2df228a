package io.millrace.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A server's data directory: the topics' logs, locked against a second process, their number
 * capped, their retention run by their owners, everything closed cleanly at the end.
 *
 * <pre>
 * data/
 *   .lock                 held (FileChannel.tryLock) while the directory is open
 *   topics/orders/        one PartitionLog per topic ({@link #topic}, {@link #existingTopic})
 *   topics/clicks/
 *   kv/                   a log outside the topic namespace ({@link #openLog}), not capped, no retention
 * </pre>
 *
 * <p>A topic's log is opened on first use by the thread that asks for it, which becomes its
 * <b>owner</b> for the life of the directory: a {@link PartitionLog} takes no locks, so every later
 * call for that topic must come from the same thread (in a pipeline: a stage partitioned by topic,
 * which always runs a topic's requests on the worker owning its partition). A call from another
 * thread fails fast. Opening runs the log's recovery on the owner, so a large log's first use after
 * a crash takes as long as its scan (see {@code docs/log.md}).
 *
 * <p>Threading: {@link #topic}, {@link #existingTopic} and {@link #enforceRetention()} from any
 * thread, each topic only from its owner; the topic table is a {@link ConcurrentHashMap} and the cap
 * an atomic count, so owners of different topics never wait for each other (opening a topic's log
 * runs outside any lock). {@link #close()} once the owners have stopped (a pipeline shut down), from
 * any thread: the shutdown's thread joins order the owners' writes before it.
 */
public final class LogDirectory implements AutoCloseable
{
    /** The lock file in the data directory. */
    public static final String LOCK_FILE = ".lock";
    /** The subdirectory holding one directory per topic. */
    public static final String TOPICS = "topics";

    private static final Logger LOG = LoggerFactory.getLogger(LogDirectory.class);

    /** One topic: its directory, owner and log. */
    private static final class Topic
    {
        final String name;
        final Path dir;
        /** Set once, by the first thread to use the topic. */
        final AtomicReference<Thread> owner = new AtomicReference<>();
        /** Written by the owner when opened; read by {@link #close()} after the owner stopped. */
        volatile PartitionLog log;
        /** Owner only. */
        long retentionCheckedMillis;

        Topic(final String name, final Path dir)
        {
            this.name = name;
            this.dir = dir;
        }
    }

    /** Real paths of the directories open in this process: a second open must not touch their lock files. */
    private static final Set<Path> LOCKED_HERE = ConcurrentHashMap.newKeySet();

    private final Path root;
    private final Path lockKey;
    private final Path topicsDir;
    private final LogDirectoryOptions options;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ConcurrentHashMap<String, Topic> topics = new ConcurrentHashMap<>();
    /** Topics known (found on disk or created); only ever raised by a CAS below the cap. */
    private final AtomicInteger topicCount = new AtomicInteger();
    private final List<PartitionLog> otherLogs = new CopyOnWriteArrayList<>();
    private final List<String> otherNames = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private LogDirectory(final Path root, final Path lockKey, final LogDirectoryOptions options, final FileChannel lockChannel,
        final FileLock lock)
    {
        this.root = root;
        this.lockKey = lockKey;
        this.topicsDir = root.resolve(TOPICS);
        this.options = options;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Opens (creating if absent) a data directory and locks it. Topic directories already in
     * {@code topics/} count towards the cap; their logs are opened on first use.
     *
     * @param dir     the data directory
     * @param options the cap, the topics' log options, the retention interval
     * @return the open directory; close it to release the lock
     * @throws DirectoryLockedException if another process, or another {@link LogDirectory} of this
     *                                  process, holds the directory's lock
     */
    public static LogDirectory open(final Path dir, final LogDirectoryOptions options) throws IOException
    {
        Objects.requireNonNull(options, "options");
        final Path root = dir.toAbsolutePath().normalize();
        Files.createDirectories(root);
        final Path lockFile = root.resolve(LOCK_FILE);
        final Path key = root.toRealPath();
        // Checked before the lock file is opened: on Linux a lock is the process's (fcntl), and closing
        // any other channel on the file, such as a refused second open's, would release it.
        if (!LOCKED_HERE.add(key))
        {
            throw locked(root, lockFile, "another LogDirectory of this process");
        }
        final FileChannel channel;
        final FileLock held;
        try
        {
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try
            {
                held = channel.tryLock();
            }
            catch (final IOException | RuntimeException e)
            {
                channel.close();
                throw e;
            }
            if (held == null)
            {
                channel.close();
                throw locked(root, lockFile, "another process");
            }
        }
        catch (final IOException | RuntimeException e)
        {
            LOCKED_HERE.remove(key);
            throw e;
        }
        final LogDirectory d = new LogDirectory(root, key, options, channel, held);
        try
        {
            d.scanTopics();
        }
        catch (final IOException | RuntimeException e)
        {
            d.releaseLock(e);
            throw e;
        }
        return d;
    }

    private static DirectoryLockedException locked(final Path root, final Path lockFile, final String holder)
    {
        return new DirectoryLockedException(root, "the data directory " + root + " is in use: " + holder
            + " holds its lock (" + lockFile + "). Two servers on one directory would corrupt its logs: stop the"
            + " other one, or give this one another data directory");
    }

    private void scanTopics() throws IOException
    {
        Files.createDirectories(topicsDir);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(topicsDir))
        {
            for (final Path p : entries)
            {
                final String name = p.getFileName().toString();
                if (!Files.isDirectory(p) || !isValid(name))
                {
                    LOG.warn("{}: ignoring {}, which is not a topic directory (names are [a-z0-9._-]{1,64})", root, p);
                    continue;
                }
                topics.put(name, new Topic(name, p));
            }
        }
        topicCount.set(topics.size());
        if (topics.size() > options.maxTopics())
        {
            LOG.warn("{} holds {} topics, over the cap of {}: they all stay readable and writable, but no new topic is"
                + " accepted until the count is under the cap", root, topics.size(), options.maxTopics());
        }
    }

    private static boolean isValid(final String name)
    {
        try
        {
            TopicNames.validate(name);
            return true;
        }
        catch (final IllegalArgumentException e)
        {
            return false;
        }
    }

    /** @return the data directory (absolute) */
    public Path path()
    {
        return root;
    }

    /** @return the options it was opened with */
    public LogDirectoryOptions options()
    {
        return options;
    }

    /** @return topics known: found on disk at open plus those created since */
    public int topicCount()
    {
        return topicCount.get();
    }

    /**
     * The log of {@code topic}, created if new, opened (and recovered) if this is its first use. The
     * calling thread becomes the topic's owner if it has none.
     *
     * @param topic a valid name ({@link TopicNames})
     * @return the topic's log, owned by the calling thread
     * @throws IllegalArgumentException if the name is invalid (the message says what is allowed)
     * @throws TopicLimitException      if the topic is new and the directory holds its maximum
     * @throws IllegalStateException    if another thread owns the topic, or the directory is closed
     * @throws LogCorruptedException    if the topic's log cannot be recovered (see {@link PartitionLog#open})
     */
    public PartitionLog topic(final String topic) throws IOException
    {
        return lookup(topic, true);
    }

    /**
     * Like {@link #topic}, but never creates: for readers, so that a read of an unknown topic leaves
     * nothing on disk.
     *
     * @param topic a valid name
     * @return the topic's log, owned by the calling thread; or null if the topic does not exist
     */
    public PartitionLog existingTopic(final String topic) throws IOException
    {
        return lookup(topic, false);
    }

    private PartitionLog lookup(final String name, final boolean create) throws IOException
    {
        checkOpen();
        Topic t = topics.get(TopicNames.validate(name));
        if (t == null)
        {
            if (!create)
            {
                return null;
            }
            t = add(name);
        }
        final Thread me = Thread.currentThread();
        if (!t.owner.compareAndSet(null, me) && t.owner.get() != me)
        {
            throw new IllegalStateException("topic '" + name + "' is owned by thread " + t.owner.get().getName()
                + ", which opened it, and was asked for on " + me.getName() + ": a PartitionLog takes no locks, so each"
                + " topic must be used from one thread. Run a topic's requests on one worker (a stage partitioned by topic)");
        }
        PartitionLog log = t.log;
        if (log == null)
        {
            log = PartitionLog.open(t.dir, options.topicOptions()); // on the owner: recovery runs here
            t.retentionCheckedMillis = options.topicOptions().clock().getAsLong();
            t.log = log;
        }
        return log;
    }

    /** Reserves a place under the cap and registers a new topic (its directory is made when its log opens). */
    private Topic add(final String name)
    {
        int n;
        do
        {
            n = topicCount.get();
            if (n >= options.maxTopics())
            {
                throw new TopicLimitException(name, options.maxTopics());
            }
        }
        while (!topicCount.compareAndSet(n, n + 1));
        final Topic fresh = new Topic(name, TopicNames.directory(topicsDir, name));
        final Topic raced = topics.putIfAbsent(name, fresh);
        if (raced != null)
        {
            topicCount.decrementAndGet(); // another thread created it first; the owner check decides who may use it
            return raced;
        }
        return fresh;
    }

    /**
     * Runs retention ({@link PartitionLog#enforceRetention()}: whole old segments, by size and age
     * as the topic options say) on every open topic the calling thread owns whose last check is at
     * least {@link LogDirectoryOptions#retentionCheckMillis()} old. Each owner calls it now and then
     * (a worker timer), so that idle topics shrink too; it touches no other thread's topics.
     *
     * @return segments deleted
     * @throws IOException the first failure; the other topics were still tried
     */
    public int enforceRetention() throws IOException
    {
        checkOpen();
        final Thread me = Thread.currentThread();
        final long now = options.topicOptions().clock().getAsLong();
        int deleted = 0;
        Exception first = null;
        for (final Topic t : topics.values())
        {
            final PartitionLog log = t.log;
            if (log == null || t.owner.get() != me || now - t.retentionCheckedMillis < options.retentionCheckMillis())
            {
                continue;
            }
            t.retentionCheckedMillis = now;
            try
            {
                deleted += log.enforceRetention();
            }
            catch (final IOException | RuntimeException e)
            {
                if (first == null)
                {
                    first = e;
                }
                else
                {
                    first.addSuppressed(e);
                }
            }
        }
        if (first instanceof IOException io)
        {
            throw io;
        }
        if (first != null)
        {
            throw (RuntimeException)first;
        }
        return deleted;
    }

    /**
     * Opens a log outside the topic namespace, at {@code <dir>/<name>}: for the server's own data
     * (the demo's key-value store). It is not counted against the cap, has no owner check and no
     * retention run by the directory (give it options without retention limits), and is closed by
     * {@link #close()}. Open it before handing it to its owner thread (a pipeline start orders it).
     *
     * @param name    a valid topic-style name other than {@code topics} and not starting with '.'
     * @param options its options
     * @return the open log
     * @throws IllegalArgumentException if the name is invalid, reserved, or already opened
     */
    public PartitionLog openLog(final String name, final LogOptions options) throws IOException
    {
        checkOpen();
        TopicNames.validate(name);
        if (name.equals(TOPICS) || name.startsWith("."))
        {
            throw new IllegalArgumentException("'" + name + "' is reserved in a log directory (the topics folder, the"
                + " lock file): choose another name");
        }
        synchronized (otherNames)
        {
            if (otherNames.contains(name))
            {
                throw new IllegalArgumentException("the log '" + name + "' of " + root + " is already open; open it once");
            }
            final PartitionLog log = PartitionLog.open(TopicNames.directory(root, name), options);
            otherNames.add(name);
            otherLogs.add(log);
            return log;
        }
    }

    /**
     * Closes every log (each leaves its clean-shutdown marker) and releases the lock. Call it once
     * the logs' owners have stopped. Idempotent.
     *
     * @throws IOException the first log that failed to close; the others were still closed and the lock released
     */
    @Override
    public void close() throws IOException
    {
        if (closed)
        {
            return;
        }
        closed = true;
        final List<PartitionLog> all = new ArrayList<>(otherLogs);
        for (final Topic t : topics.values())
        {
            if (t.log != null)
            {
                all.add(t.log);
            }
        }
        IOException first = null;
        for (final PartitionLog log : all)
        {
            try
            {
                log.close();
            }
            catch (final IOException | RuntimeException e)
            {
                LOG.warn("closing {} failed; it will be recovered at the next open", log.directory(), e);
                if (first == null)
                {
                    first = e instanceof IOException io ? io : new IOException(e);
                }
            }
        }
        releaseLock(first);
        if (first != null)
        {
            throw first;
        }
    }

    private void releaseLock(final Exception pending)
    {
        try
        {
            lock.release();
            lockChannel.close();
        }
        catch (final IOException e)
        {
            if (pending != null)
            {
                pending.addSuppressed(e);
            }
            LOG.warn("releasing the lock of {} failed (the process's exit releases it)", root, e);
        }
        finally
        {
            LOCKED_HERE.remove(lockKey);
        }
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("the log directory " + root + " is closed; open it again");
        }
    }
}
