import fs from 'node:fs';
import path from 'node:path';

const GLOB_CHARS = /[*?[]/;

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (pattern.startsWith('**/', i)) {
      source += '(?:.*/)?';
      i += 2;
    } else if (pattern.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function walk(dir: string, out: string[]): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile()) out.push(full);
  }
}

/**
 * Expands `*`, `?` and `**` patterns (relative to the current directory) into a sorted list of files;
 * Node 20's test runner takes only plain paths. A plain path is kept as given.
 */
export function expandTestPatterns(patterns: string[]): string[] {
  const files = new Set<string>();
  for (const raw of patterns) {
    const pattern = raw.split(path.sep).join('/').replace(/^\.\//, '');
    if (!GLOB_CHARS.test(pattern)) {
      files.add(pattern);
      continue;
    }
    const segments = pattern.split('/');
    const firstGlob = segments.findIndex((s) => GLOB_CHARS.test(s));
    const base = segments.slice(0, firstGlob).join('/') || '.';
    if (!fs.existsSync(base)) continue;
    const candidates: string[] = [];
    walk(base, candidates);
    const re = globToRegExp(pattern);
    for (const file of candidates) {
      const relative = base === '.' ? file.replace(/^\.\//, '') : file;
      if (re.test(relative)) files.add(relative);
    }
  }
  return [...files].sort();
}
