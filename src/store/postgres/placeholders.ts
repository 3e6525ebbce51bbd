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
