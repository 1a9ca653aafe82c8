/**
 * A campaign's history (issue 16): one row per command that changed it (who,
 * when, what), appended by the engine after the change was saved.
 */
export default (s: string): string[] => [
  `CREATE TABLE ${s}.campaign_history (
    -- Append order: several entries may name one version (duplicating leaves the original's version as it is).
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id  text COLLATE "C" NOT NULL,
    version      integer NOT NULL,
    at           timestamptz NOT NULL,
    actor        text NOT NULL,
    action       text NOT NULL,
    -- The whole entry as Herald's CampaignHistoryEntry schema reads it; the columns above are copies.
    doc          jsonb NOT NULL
  )`,
  // The only read: one campaign's entries in append order (listCampaignHistory), and the delete of a draft's rows.
  // No foreign key: deleting a draft removes its rows in the same statement (storage/campaign-history.ts).
  `CREATE INDEX campaign_history_campaign_idx ON ${s}.campaign_history (campaign_id, id)`,
];
