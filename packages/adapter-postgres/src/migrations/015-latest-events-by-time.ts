/**
 * latest_events (migration 006) read by window: (name, last_at) INCLUDE
 * (user_id), so "did any of X, Y, Z in the last 14 days" reads only the
 * pairs inside the window instead of every pair of those names.
 *
 * Why: the primary key (name, user_id) gives a name's pairs in user order,
 * which a count merges with the profiles as they come; but it holds every
 * pair of the name however old, and a window keeps a fraction of them. At
 * 1,000,000 profiles / 10,000,000 events over 90 days, three names in a
 * 14-day window read 1,160,000 pairs through the key to keep 268,000; this
 * index reads the 268,000, and sorting them by user costs less than
 * filtering the rest (bench/segments, "OR of three behaviours": about 0.7x
 * the backend CPU of the key range). The planner picks per query, by its
 * estimates of the window's share: a wide window still reads the key in
 * order.
 *
 * The price: one more index entry written per (name, user) pair an event
 * batch raises. last_at is already in the primary key's INCLUDE, so those
 * upserts were never HOT updates; this adds a second index insertion to
 * each, not a heap rewrite.
 */
export default (schema: string): string[] => [
  `CREATE INDEX latest_events_name_time_idx ON ${schema}.latest_events (name, last_at) INCLUDE (user_id)`,
];
