/** A LIKE pattern matching `text` anywhere, with `\` as the escape character (ESCAPE '\'). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
