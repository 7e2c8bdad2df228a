package io.millrace.worker;

/**
 * Agrona 2's lock-free queues reach {@code jdk.internal.misc.Unsafe}, which the JDK opens only
 * when the application is started with
 * {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED} (or {@code Add-Exports:
 * java.base/jdk.internal.misc} in an executable jar's manifest). Without it the first queue fails
 * deep inside a worker with a {@code NoClassDefFoundError}; this check turns that into a clear
 * error when the pipeline is built.
 */
public final class AgronaAccess
{
    /** The JVM option Millrace needs. */
    public static final String JVM_OPTION = "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED";

    private static volatile boolean checked;

    private AgronaAccess()
    {
    }

    /**
     * @throws IllegalStateException naming the JVM option to add, when Agrona cannot reach Unsafe
     */
    public static void check()
    {
        if (checked)
        {
            return;
        }
        try
        {
            Class.forName("org.agrona.UnsafeApi", true, AgronaAccess.class.getClassLoader());
            checked = true;
        }
        catch (final ClassNotFoundException | LinkageError ex)
        {
            throw new IllegalStateException("Millrace's lock-free queues (Agrona 2) need the JVM option '" + JVM_OPTION +
                "'. Add it to the java command line, or 'Add-Exports: java.base/jdk.internal.misc' to your jar's manifest.", ex);
        }
    }
}
