-- Mirrors sqlite/016_opt_outs.sql.
-- Opt-out block rules, per messaging profile: `to_number` texted an opt-out keyword to `from_number`
-- (a number of the profile), so no number of the profile may send to it until it texts START.
-- Telnyx's names: `from` is our sending number, `to` the number that opted out.
CREATE TABLE messaging_optouts (
  messaging_profile_id TEXT NOT NULL,
  to_number TEXT COLLATE "C" NOT NULL,
  organization_id TEXT NOT NULL,
  from_number TEXT NOT NULL,
  keyword TEXT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (messaging_profile_id, to_number)
);
CREATE INDEX messaging_optouts_org ON messaging_optouts (organization_id, created_at);

-- A profile's auto-response settings (Telnyx's autoresp_configs): which keywords start, stop or ask
-- for help (op), for senders of which country, and the reply; keywords as a JSON list, upper case.
CREATE TABLE autoresp_configs (
  id TEXT COLLATE "C" PRIMARY KEY,
  organization_id TEXT NOT NULL,
  messaging_profile_id TEXT NOT NULL,
  op TEXT NOT NULL,
  keywords TEXT NOT NULL,
  country_code TEXT NOT NULL,
  resp_text TEXT,
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX autoresp_configs_profile ON autoresp_configs (messaging_profile_id, created_at);
