import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');

/** The documents whose code blocks are checked. */
export const DOCUMENTS = ['README.md', 'docs/client.md', 'packages/client/README.md'];

/** Fences that hold code a reader may run or copy: each needs an `example` or `snippet` marker. */
const CODE_LANGUAGES = new Set(['js', 'mjs', 'cjs', 'javascript', 'ts', 'typescript', 'html']);

export interface DocBlock {
  file: string;
  line: number;
  lang: string;
  code: string;
  /** `<!-- example: node, prints "…" -->` / `<!-- example: browser, shows "…" -->` before the fence. */
  example?: { kind: 'node' | 'browser'; expect: string };
  /** `<!-- snippet: why it is not run -->` before the fence. */
  snippet?: string;
}

const EXAMPLE = /^<!-- example: (node|browser), (?:prints|shows) "([^"]+)" -->$/;
const SNIPPET = /^<!-- snippet: (.+) -->$/;

/** Every fenced block of `file` with its marker (the line just above the fence), in order. */
export function docBlocks(file: string): DocBlock[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
    const marker = (lines[i - 1] ?? '').trim();
    const example = EXAMPLE.exec(marker);
    const snippet = SNIPPET.exec(marker);
    blocks.push({
      file,
      line: i + 1,
      lang: open[1],
      code: lines.slice(i + 1, end).join('\n'),
      example: example ? { kind: example[1] as 'node' | 'browser', expect: example[2] } : undefined,
      snippet: snippet?.[1],
    });
    i = end;
  }
  return blocks;
}

/** Code blocks that carry neither marker: a runnable example left untested, or an unmarked one. */
export function unmarkedCodeBlocks(blocks: DocBlock[]): string[] {
  return blocks
    .filter((b) => CODE_LANGUAGES.has(b.lang) && !b.example && !b.snippet)
    .map((b) => `${b.file}:${b.line} (${b.lang})`);
}

export function examples(kind: 'node' | 'browser'): DocBlock[] {
  return DOCUMENTS.flatMap(docBlocks).filter((b) => b.example?.kind === kind);
}
