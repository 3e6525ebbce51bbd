import { readFileSync } from 'node:fs';

/** The line types Telnyx reports (its `line_type` enum minus the empty string). */
export const LINE_TYPES = ['Wireless', 'Wireline', 'VoIP', 'VoWiFi', 'Pre-Paid Wireless'] as const;

export type LineType = (typeof LINE_TYPES)[number];

export interface PrefixEntry {
  /** '+' then 1–15 digits; matches every number that starts with it. */
  prefix: string;
  carrier: string;
  line_type: LineType;
}

export interface PrefixTable {
  /** The entry with the longest prefix of `e164`, if any. */
  match(e164: string): PrefixEntry | undefined;
  readonly size: number;
}

interface TrieNode {
  children: Map<string, TrieNode>;
  entry?: PrefixEntry;
}

const PREFIX_PATTERN = /^\+\d{1,15}$/;

/** Builds a table from entries already validated; throws on a duplicate prefix. */
export function createPrefixTable(entries: readonly PrefixEntry[]): PrefixTable {
  const root: TrieNode = { children: new Map() };
  for (const entry of entries) {
    let node = root;
    for (const digit of entry.prefix.slice(1)) {
      let next = node.children.get(digit);
      if (!next) {
        next = { children: new Map() };
        node.children.set(digit, next);
      }
      node = next;
    }
    if (node.entry) throw new Error(`duplicate prefix ${entry.prefix}`);
    node.entry = entry;
  }
  return {
    size: entries.length,
    match(e164) {
      if (!e164.startsWith('+')) return undefined;
      let node: TrieNode | undefined = root;
      let best: PrefixEntry | undefined;
      for (let i = 1; i < e164.length && node; i++) {
        node = node.children.get(e164.charAt(i));
        if (node?.entry) best = node.entry;
      }
      return best;
    },
  };
}

/** Validates the parsed JSON of a prefix table file; `source` names the file in errors. */
export function parsePrefixTable(json: unknown, source: string): PrefixTable {
  if (!isRecord(json) || !Array.isArray(json.entries)) {
    throw new Error(`prefix table ${source}: expected an object with an "entries" array`);
  }
  const entries = json.entries.map((raw, index) =>
    validateEntry(raw, `prefix table ${source}: entries[${index}]`),
  );
  try {
    return createPrefixTable(entries);
  } catch (error) {
    throw new Error(`prefix table ${source}: ${(error as Error).message}`);
  }
}

/** Reads and validates a prefix table file (JSON `{ "entries": [...] }`). Throws naming the bad entry. */
export function loadPrefixTable(path: string | URL): PrefixTable {
  const source = String(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`prefix table ${source}: cannot read file: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`prefix table ${source}: invalid JSON: ${(error as Error).message}`);
  }
  return parsePrefixTable(json, source);
}

/** The demo table shipped with the source (covers the simulator's +1NPA55501XX numbers). */
export const DEMO_PREFIX_TABLE_URL = new URL('./demo-prefix-table.json', import.meta.url);

function validateEntry(raw: unknown, where: string): PrefixEntry {
  if (!isRecord(raw)) throw new Error(`${where}: expected an object`);
  const { prefix, carrier, line_type } = raw;
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new Error(`${where}: prefix ${JSON.stringify(prefix)} must be '+' followed by 1-15 digits`);
  }
  if (typeof carrier !== 'string' || carrier.trim() === '') {
    throw new Error(`${where} (${prefix}): carrier must be a non-empty string`);
  }
  if (typeof line_type !== 'string' || !(LINE_TYPES as readonly string[]).includes(line_type)) {
    throw new Error(
      `${where} (${prefix}): line_type ${JSON.stringify(line_type)} must be one of ${LINE_TYPES.join(', ')}`,
    );
  }
  return { prefix, carrier, line_type: line_type as LineType };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
