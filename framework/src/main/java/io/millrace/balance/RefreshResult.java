package io.millrace.balance;

/**
 * What {@link UpstreamGroup#update} changed.
 *
 * @param added     upstreams that were not in the group
 * @param changed   upstreams kept (same identity and statistics) whose settings changed
 * @param unchanged upstreams kept as they were
 * @param draining  upstreams not in the new list, now draining
 */
public record RefreshResult(int added, int changed, int unchanged, int draining)
{
}
