/**
 * Behaviour segments counted over the whole audience read one event name in
 * a time window across all users: (name, time) with user_id included lets
 * that be an index-only range scan.
 */
export default (schema: string): string[] => [
  `CREATE INDEX events_name_time_idx ON ${schema}.events (name, "time") INCLUDE (user_id)`,
];
