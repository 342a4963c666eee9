/**
 * Reads a broker.yaml against the schema: walks the YAML node tree (not the plain object) so every
 * value and every unknown key keeps its line number. Returns the parsed values and all problems found;
 * it never throws for bad input.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { KeyPath } from './broker-config.ts';
import { fileProblem, showGot, unknownKeyProblem, valueProblem, type ConfigProblem, type Origin } from './config-error.ts';
import { KEY_INFO, KEYS, SCHEMA_TREE, type Section } from './schema.ts';
import { suggest } from './suggest.ts';
import { subKey } from './value-types.ts';

export interface FileValue {
  readonly key: KeyPath;
  readonly value: unknown;
  readonly origin: Origin;
}

export function readYamlText(file: string, text: string): { values: FileValue[]; problems: ConfigProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const values: FileValue[] = [];
  const problems: ConfigProblem[] = [];

  const first = doc.errors[0];
  if (first !== undefined) {
    // Report only the first syntax error: the parser's later ones are mostly echoes of it, and the
    // tree after an error may not be what the user meant, so nothing else is checked.
    const origin: Origin = { kind: 'file', file, line: lines.linePos(first.pos[0]).line };
    const what = first.message.split('\n')[0]!;
    problems.push(fileProblem(origin, 'valid YAML', JSON.stringify(what), `YAML syntax error: ${what}`));
    return { values, problems };
  }

  const at = (node: unknown): Origin => {
    const range = (node as Node | null)?.range;
    return range ? { kind: 'file', file, line: lines.linePos(range[0]).line } : { kind: 'file', file };
  };
  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc as Document) : node);
  const plain = (node: unknown): unknown =>
    node === null || node === undefined ? null : isScalar(node) ? node.value : (node as Node).toJS(doc as Document);

  function walk(node: unknown, section: Section): void {
    node = deref(node);
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return; // an empty section
    if (!isMap(node)) {
      const names = [...section.children.keys()].join(', ');
      const where = section.path === '' ? 'a mapping of sections' : `a mapping of ${section.path} keys`;
      problems.push(valueProblem(at(node), section.path || '(top level)', `${where} (${names})`, showGot(plain(node))));
      return;
    }
    for (const pair of node.items) {
      const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
      const path = section.path === '' ? name : `${section.path}.${name}`;
      const child = section.children.get(name);
      if (child === undefined) {
        problems.push(unknownKeyProblem(at(pair.key), path, suggestKey(section, name)));
      } else if (child.kind === 'section') {
        walk(pair.value, child);
      } else {
        leaf(child.key, deref(pair.value), pair.key);
      }
    }
  }

  function leaf(key: KeyPath, node: unknown, keyNode: unknown): void {
    const info = KEY_INFO.get(key)!;
    const origin = at((node as Node | null)?.range ? node : keyNode);
    const raw = plain(node);
    const parsed = info.spec.type.parse(raw);
    if (parsed.ok) {
      values.push({ key, value: parsed.value, origin });
      return;
    }
    for (const f of parsed.fails) {
      const where = at(locate(node, f.at ?? []) ?? node ?? keyNode);
      if (f.unknownKey) {
        const suggestion = f.suggestion === undefined ? undefined : subKey(key, [...f.at!.slice(0, -1), f.suggestion]);
        problems.push(unknownKeyProblem(where, subKey(key, f.at), suggestion));
      } else {
        problems.push(valueProblem(where, subKey(key, f.at), f.expected, showGot(f.got, info.spec.secret)));
      }
    }
  }

  /** The deepest node reachable along `steps` inside a structured value. */
  function locate(node: unknown, steps: readonly (string | number)[]): unknown {
    let current = node;
    for (const step of steps) {
      current = deref(current);
      let next: unknown;
      if (typeof step === 'number' && isSeq(current)) next = current.items[step];
      else if (typeof step === 'string' && isMap(current)) {
        const pair = current.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === step);
        next = pair ? (pair.value ?? pair.key) : undefined;
      }
      if (next === undefined || next === null) break;
      current = next;
    }
    return current;
  }

  walk(doc.contents, SCHEMA_TREE);
  return { values, problems };
}

/**
 * The sibling the user most likely meant; failing that, the one key anywhere whose last part is the
 * name (a top-level `dataDir:` means storage.dataDir).
 */
export function suggestKey(section: Section, name: string): string | undefined {
  const sibling = suggest(name, section.children.keys());
  if (sibling !== undefined) return section.path === '' ? sibling : `${section.path}.${sibling}`;
  const elsewhere = KEYS.filter((k) => k.key.split('.').pop()!.toLowerCase() === name.toLowerCase());
  return elsewhere.length === 1 ? elsewhere[0]!.key : undefined;
}
