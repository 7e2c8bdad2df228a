/**
 * The lock grid: locks laid out as stages x data sets, where two requests contend only if they need
 * the same data set in the same stage, and where a contended lock parks the request, never the
 * thread. {@link io.millrace.lock.LockGrid} takes and gives back cells;
 * {@link io.millrace.lock.ContentionReport} and {@link io.millrace.lock.HeatMap} show where the
 * contention sits, so that stages and data sets can be re-cut and measured again.
 *
 * <p>Public types: {@code LockGrid}, {@code LockGridBuilder}, {@code ContentionReport},
 * {@code CellStats}, {@code HeatMap}. The cell protocol ({@code Cell}, {@code Waiter}) is
 * package-private.
 */
package io.millrace.lock;
