import { docBlocks, DOCUMENTS, examples, unmarkedCodeBlocks } from './doc-examples';

describe('code blocks of the README and the client docs', () => {
  const blocks = DOCUMENTS.flatMap(docBlocks);

  it('are each marked as a runnable example or as a snippet, so none drifts untested', () => {
    expect(unmarkedCodeBlocks(blocks)).toEqual([]);
  });

  it('include the Node and browser examples that readme-examples.e2e-spec.ts runs', () => {
    expect(examples('node').map((b) => b.file)).toEqual([
      'README.md',
      'docs/client.md',
      'packages/client/README.md',
    ]);
    expect(examples('browser').map((b) => b.file)).toEqual(['README.md', 'docs/client.md']);
    for (const block of examples('node')) expect(block.lang).toBe('js');
    for (const block of examples('browser')) expect(block.lang).toBe('html');
  });

  it('name no placeholder host and import the SDK by its package name or its served path', () => {
    for (const block of [...examples('node'), ...examples('browser')]) {
      const where = `${block.file}:${block.line}`;
      expect({ where, host: /api-\d|example\.com|my-backend/.exec(block.code)?.[0] }).toEqual({
        where,
        host: undefined,
      });
      expect({
        where,
        sdk: /from '(@sessionwire\/client|\/sdk\/index\.mjs)'/.test(block.code),
      }).toEqual({ where, sdk: true });
    }
  });

  it('finds a marker-less block (the check above can fail)', () => {
    const fake = [{ file: 'x.md', line: 3, lang: 'js', code: '' }];
    expect(unmarkedCodeBlocks(fake)).toEqual(['x.md:3 (js)']);
  });
});
