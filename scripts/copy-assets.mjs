// Copies what tsc does not emit (SQL migrations, JSON tables, the dashboard's assets/ folder) from
// src/ into dist/, same layout.
import fs from 'node:fs';
import path from 'node:path';

const ASSETS = /\.(sql|json)$/;
function copy(from, to, everything = false) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) copy(source, target, everything || entry.name === 'assets');
    else if (everything || ASSETS.test(entry.name)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(source, target);
    }
  }
}
copy('src', 'dist');
