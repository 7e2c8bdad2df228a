/**
 * Load balancing over a group of upstream servers, protocol-agnostic: no HTTP and no networking
 * here, only the decisions (which upstream, whether it is healthy, whether it is over its limits)
 * and the statistics they rest on. The HTTP reverse proxy and the probes' I/O build on it.
 *
 * <p>An {@link io.millrace.balance.UpstreamGroup} holds the upstreams
 * ({@link io.millrace.balance.UpstreamSpec}: address, weight, backup, zone, health and breaker
 * settings, parsed from the demo's {@code host:port,weight=3} syntax) and changes at runtime (add,
 * remove, drain, update as a refreshed list) by copy-on-write snapshots. Each worker picks through
 * its own {@link io.millrace.balance.Balancer}, which runs its own instance of a
 * {@link io.millrace.balance.BalancePolicy} chosen by name (nginx's round-robin, ip-hash, hash,
 * consistent-hash, least-conn, least-time, random-two; Ribbon's weighted-response-time,
 * best-available, availability-filtering, zone-avoidance) and records each attempt's start and end
 * in per-worker statistics that readers merge without locks. Health (passive ejection with back-off,
 * active-probe state, slow start) is shared by all workers through atomics.
 *
 * <p>Public types: {@code UpstreamGroup}, {@code UpstreamGroupBuilder}, {@code UpstreamSpec},
 * {@code Upstream}, {@code Balancer}, {@code BalancePolicy}, {@code Tried}, {@code CallOutcome},
 * {@code PickFailure}, {@code UpstreamState}, {@code UpstreamStats}, {@code StatsView},
 * {@code ProbeInitialState}, {@code RefreshResult}. The policies, health records, statistics cells
 * and snapshots are package-private. See docs/balance.md.
 */
package io.millrace.balance;
