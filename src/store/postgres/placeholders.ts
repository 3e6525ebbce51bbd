// A string literal, a quoted identifier, or a placeholder: only the last is rewritten.
const TOKEN = /'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g;

/** Rewrites the repositories' `?` placeholders as PostgreSQL's `$1..$n`. */
export function toPositional(sql: string): string {
  let n = 0;
  return sql.replace(TOKEN, (token) => (token === '?' ? `$${++n}` : token));
}

/** `toPositional` with a cache per SQL string; cleared when full, as dynamic SQL could grow it. */
export function cachedToPositional(maxEntries = 1000): (sql: string) => string {
  const cache = new Map<string, string>();
  return (sql) => {
    let translated = cache.get(sql);
    if (translated === undefined) {
      translated = toPositional(sql);
      if (cache.size >= maxEntries) cache.clear();
      cache.set(sql, translated);
    }
    return translated;
  };
}

/**
 * Names for the statements worth preparing: PostgreSQL then parses and plans each text once per
 * connection instead of at every run. Names are never reused for another text (a connection keeps
 * what it prepared); past `maxNames` distinct texts, the rest run unprepared. A text whose prepared
 * plan went stale (a migration changed a table under `SELECT *` on a running node) is run
 * unprepared from then on (inside a transaction, that transaction fails once and is retried by its
 * caller like any failed one).
 */
export function preparedNames(maxNames = 500): {
  nameOf(text: string): string | undefined;
  forget(text: string): void;
} {
  const names = new Map<string, string | null>();
  let next = 0;
  return {
    nameOf(text) {
      const known = names.get(text);
      if (known !== undefined) return known ?? undefined;
      if (next >= maxNames) return undefined;
      const name = `mms_${++next}`;
      names.set(text, name);
      return name;
    },
    forget(text) {
      names.set(text, null);
    },
  };
}
