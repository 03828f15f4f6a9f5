/** Every relative link in the README and docs/ names a file of the repository (no page promised and missing). */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const pages = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

/** `[text](target)` links that are not URLs or in-page anchors, without their `#fragment`. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.split('#')[0] ?? '');
}

it.each(pages)('%s links only to files that exist', (page) => {
  const links = relativeLinks(fs.readFileSync(path.join(ROOT, page), 'utf8'));
  const missing = links.filter((target) => !fs.existsSync(path.resolve(ROOT, path.dirname(page), target)));
  expect(missing).toEqual([]);
});

it('finds the links it checks', () => {
  expect(relativeLinks('see [a](docs/a.md#x), [b](https://x.org) and [c](#here)')).toEqual(['docs/a.md']);
  expect(relativeLinks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')).length).toBeGreaterThan(5);
});
