/**
 * Generates src/protocol/kafka/generated/ from Apache Kafka's JSON message definitions.
 *
 * Usage: node lib/scripts/gen-protocol.js [--in DIR] [--out DIR]
 *   --in   the folder of *.json definitions (default: $STREAMBUS_KAFKA_MESSAGES or ../shared/kafka-protocol/messages)
 *   --out  where to write (default: src/protocol/kafka/generated)
 *
 * For every request, response and data message it writes one file with the TypeScript types and one
 * decode and one encode function per struct, each taking the version as a parameter (one function for
 * all versions keeps the output compact and the type checker fast). It also writes index.ts, the table
 * of every API key with its codecs. docs/protocol.md describes the mapping from schema to code.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const NEVER = 0x7fff;

export interface VersionRange {
  min: number;
  max: number;
}

export interface FieldSpec {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  flexibleVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  ignorable?: boolean;
  about?: string;
  fields?: FieldSpec[];
}

export interface StructSpec {
  name: string;
  versions?: string;
  fields: FieldSpec[];
}

export interface MessageSpec {
  apiKey?: number;
  type: 'request' | 'response' | 'header' | 'data';
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: FieldSpec[];
  commonStructs?: StructSpec[];
  latestVersionUnstable?: boolean;
}

/** Parses "3+", "1-4", "2", "none" into a range; null for none. */
export function parseVersions(s: string | undefined): VersionRange | null {
  if (s === undefined) throw new Error('missing versions');
  const t = s.trim();
  if (t === 'none') return null;
  let m = /^(\d+)\+$/.exec(t);
  if (m) return { min: Number(m[1]), max: NEVER };
  m = /^(\d+)-(\d+)$/.exec(t);
  if (m) return { min: Number(m[1]), max: Number(m[2]) };
  m = /^(\d+)$/.exec(t);
  if (m) return { min: Number(m[1]), max: Number(m[1]) };
  throw new Error(`bad version range ${s}`);
}

export function intersect(a: VersionRange | null, b: VersionRange | null): VersionRange | null {
  if (!a || !b) return null;
  const r = { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) };
  return r.min <= r.max ? r : null;
}

/** A boolean expression over `version`, simplified for the versions the enclosing code can see. */
function cond(r: VersionRange | null, ctx: VersionRange): string {
  const x = intersect(r, ctx);
  if (!x) return 'false';
  const parts: string[] = [];
  if (x.min > ctx.min) parts.push(`version >= ${x.min}`);
  if (x.max < ctx.max) parts.push(`version <= ${x.max}`);
  return parts.length === 0 ? 'true' : parts.join(' && ');
}

/** Removes // comments outside strings (the definitions are JSON with comments). */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else out += c;
  }
  return out;
}

const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'records', 'uuid']);
const RESERVED = new Set(['Reader', 'Writer', 'RecordsView', 'Input', 'TaggedField', 'StreamBusError']);

function camel(name: string): string {
  return name[0]!.toLowerCase() + name.slice(1);
}

function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase();
}

function jsString(s: string): string {
  return JSON.stringify(s);
}

interface Struct {
  name: string;
  fields: FieldSpec[];
  /** The versions in which code for this struct can run (hull over every use). */
  ctx: VersionRange;
  topLevel: boolean;
}

class MessageGen {
  readonly spec: MessageSpec;
  readonly valid: VersionRange;
  readonly flexible: VersionRange | null;
  readonly structs = new Map<string, Struct>();
  readonly commonStructs = new Map<string, StructSpec>();
  /** Structs needing a default factory (non-array struct fields) or an isDefault check (tagged struct fields). */
  readonly needDefault = new Set<string>();
  readonly needIsDefault = new Set<string>();
  usesWriterValue = false;

  constructor(spec: MessageSpec) {
    this.spec = spec;
    const valid = parseVersions(spec.validVersions);
    if (!valid) throw new Error(`${spec.name}: no valid versions`);
    this.valid = valid;
    this.flexible = parseVersions(spec.flexibleVersions);
    for (const cs of spec.commonStructs ?? []) this.commonStructs.set(cs.name, cs);
    this.collect(spec.name, spec.fields, valid, true);
  }

  private addStruct(name: string, fields: FieldSpec[], ctx: VersionRange, topLevel: boolean): void {
    if (RESERVED.has(name)) throw new Error(`${this.spec.name}: struct name ${name} collides with an import`);
    const prev = this.structs.get(name);
    if (prev) {
      if (prev.fields !== fields) throw new Error(`${this.spec.name}: struct ${name} defined twice`);
      const hull = { min: Math.min(prev.ctx.min, ctx.min), max: Math.max(prev.ctx.max, ctx.max) };
      if (hull.min === prev.ctx.min && hull.max === prev.ctx.max) return;
      prev.ctx = hull;
    } else this.structs.set(name, { name, fields, ctx, topLevel });
    this.collect(name, fields, this.structs.get(name)!.ctx, false);
  }

  private collect(_owner: string, fields: FieldSpec[], ctx: VersionRange, _top: boolean): void {
    for (const f of fields) {
      const fr = intersect(parseVersions(f.versions), ctx);
      if (!fr) continue;
      const elem = f.type.startsWith('[]') ? f.type.slice(2) : f.type;
      if (PRIMITIVES.has(elem)) continue;
      if (f.fields) this.addStruct(elem, f.fields, fr, false);
      else {
        const cs = this.commonStructs.get(elem);
        if (!cs) throw new Error(`${this.spec.name}: unknown type ${f.type}`);
        this.addStruct(elem, cs.fields, fr, false);
      }
    }
  }

  structOf(f: FieldSpec): Struct {
    const elem = f.type.startsWith('[]') ? f.type.slice(2) : f.type;
    return this.structs.get(elem)!;
  }

  // ---- types -------------------------------------------------------------------------------------

  private baseTsType(t: string): string {
    switch (t) {
      case 'bool':
        return 'boolean';
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'uint32':
      case 'float64':
        return 'number';
      case 'int64':
        return 'bigint';
      case 'string':
      case 'uuid':
        return 'string';
      case 'bytes':
        return 'Buffer';
      case 'records':
        return 'RecordsView';
      default:
        return t;
    }
  }

  private isNullable(f: FieldSpec, ctx: VersionRange): boolean {
    return f.nullableVersions !== undefined && intersect(intersect(parseVersions(f.nullableVersions), parseVersions(f.versions)), ctx) !== null;
  }

  tsType(f: FieldSpec, ctx: VersionRange): string {
    const nullable = this.isNullable(f, ctx);
    let t: string;
    if (f.type.startsWith('[]')) t = `${this.baseTsType(f.type.slice(2))}[]`;
    else t = this.baseTsType(f.type);
    return nullable ? `${t} | null` : t;
  }

  /** The default value of a field, as an expression of its decoded type. */
  defaultExpr(f: FieldSpec, ctx: VersionRange): string {
    const d = f.default;
    const nullable = this.isNullable(f, ctx);
    if (d === 'null') {
      if (!nullable) throw new Error(`${this.spec.name}.${f.name}: null default on a non-nullable field`);
      return 'null';
    }
    if (f.type.startsWith('[]')) return '[]';
    switch (f.type) {
      case 'bool':
        return d === undefined ? 'false' : String(d === true || d === 'true');
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'uint32':
      case 'float64':
        return d === undefined || d === '' ? '0' : String(Number(d));
      case 'int64':
        return d === undefined || d === '' ? '0n' : `${BigInt(String(d))}n`;
      case 'string':
        return jsString(d === undefined ? '' : String(d));
      case 'uuid':
        return 'ZERO_UUID';
      case 'bytes':
        return nullable && d === undefined ? 'null' : 'Buffer.alloc(0)';
      case 'records':
        return nullable ? 'null' : '(Buffer.alloc(0) as RecordsView)';
      default:
        this.needDefault.add(f.type);
        return `default${f.type}()`;
    }
  }

  /** Whether the encoder's input value `v` (not undefined) differs from the field's default. */
  nonDefaultCheck(f: FieldSpec, ctx: VersionRange, v: string): string {
    const d = this.defaultExpr(f, ctx);
    if (d === 'null') return `${v} !== null`;
    if (f.type.startsWith('[]')) return `(${v} === null || ${v}.length !== 0)`;
    switch (f.type) {
      case 'bytes':
      case 'records':
        return `(${v} === null || ${v}.length !== 0)`;
      case 'uuid':
        return `${v} !== ZERO_UUID`;
      default:
        if (PRIMITIVES.has(f.type)) return `${v} !== ${d}`;
        this.needIsDefault.add(f.type);
        return `(${v} === null || !isDefault${f.type}(${v}))`;
    }
  }

  // ---- decode ------------------------------------------------------------------------------------

  private compactExpr(f: FieldSpec, ctx: VersionRange): string {
    if (!this.flexible || cond(this.flexible, ctx) === 'false') return 'false';
    if (f.flexibleVersions !== undefined) {
      const c = cond(intersect(parseVersions(f.flexibleVersions), this.flexible), ctx);
      return c === 'true' ? 'flexible' : c === 'false' ? 'false' : `(flexible && ${c})`;
    }
    return 'flexible';
  }

  private nullableExpr(f: FieldSpec, ctx: VersionRange): string {
    if (f.nullableVersions === undefined) return 'false';
    return cond(intersect(parseVersions(f.nullableVersions), parseVersions(f.versions)), ctx);
  }

  /** An expression decoding one value of the scalar type `t`. */
  private decodeScalar(t: string, c: string, n: string, f: FieldSpec): string {
    switch (t) {
      case 'bool':
        return 'r.bool()';
      case 'int8':
        return 'r.int8()';
      case 'int16':
        return 'r.int16()';
      case 'uint16':
        return 'r.uint16()';
      case 'int32':
        return 'r.int32()';
      case 'uint32':
        return 'r.uint32()';
      case 'int64':
        return 'r.int64()';
      case 'float64':
        return 'r.float64()';
      case 'uuid':
        return 'r.uuid()';
      case 'string':
        return n === 'false' ? `r.string(${c})` : n === 'true' ? `r.nullableString(${c})` : `(${n} ? r.nullableString(${c}) : r.string(${c}))`;
      case 'bytes':
        return n === 'false' ? `r.bytes(${c})` : n === 'true' ? `r.nullableBytes(${c})` : `(${n} ? r.nullableBytes(${c}) : r.bytes(${c}))`;
      case 'records':
        return n === 'false' ? `(r.bytes(${c}) as RecordsView)` : n === 'true' ? `(r.nullableBytes(${c}) as RecordsView | null)` : `((${n} ? r.nullableBytes(${c}) : r.bytes(${c})) as RecordsView | null)`;
      default: {
        if (n === 'false') return `decode${t}(r, version)`;
        return `(${n === 'true' ? '' : `!(${n}) || `}r.int8() >= 0 ? decode${t}(r, version) : null)`;
      }
    }
    void f;
  }

  /** Statements assigning the decoded field to `target`. */
  decodeField(f: FieldSpec, outer: VersionRange, target: string, indent: string): string {
    const ctx = intersect(parseVersions(f.versions), outer)!;
    const c = this.compactExpr(f, ctx);
    const n = this.nullableExpr(f, ctx);
    if (!f.type.startsWith('[]')) return `${indent}${target} = ${this.decodeScalar(f.type, c, n, f)};\n`;
    const elem = f.type.slice(2);
    const et = this.baseTsType(elem);
    let s = `${indent}{\n`;
    s += `${indent}  const n = r.arrayLength(${c}, ${n});\n`;
    const loop = `const a: ${et}[] = [];\n${indent}    for (let i = 0; i < n; i++) a.push(${this.decodeScalar(elem, c, 'false', f)});\n${indent}    ${target} = a;`;
    if (n === 'false') s += `${indent}  {\n${indent}    ${loop}\n${indent}  }\n`;
    else s += `${indent}  if (n < 0) ${target} = null;\n${indent}  else {\n${indent}    ${loop}\n${indent}  }\n`;
    return s + `${indent}}\n`;
  }

  // ---- encode ------------------------------------------------------------------------------------

  private encodeScalar(t: string, c: string, n: string, v: string, name: string, w: string, indent: string): string {
    switch (t) {
      case 'bool':
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'uint32':
      case 'int64':
      case 'float64':
      case 'uuid':
        return `${indent}${w}.${t}(${v});\n`;
      case 'string':
      case 'bytes':
      case 'records': {
        const plain = t === 'records' ? 'records' : t;
        const nul = t === 'records' ? 'records' : t === 'string' ? 'nullableString' : 'nullableBytes';
        if (n === 'false') return `${indent}${w}.${plain}(${v} as never, ${c});\n`;
        if (n === 'true') return `${indent}${w}.${nul}(${v}, ${c});\n`;
        return `${indent}if (${v} === null && !(${n})) throw nullNotAllowed(${jsString(name)}, version);\n${indent}${w}.${nul}(${v}, ${c});\n`;
      }
      default: {
        if (n === 'false') return `${indent}encode${t}(${w}, ${v} as never, version);\n`;
        const enc = `if (${v} === null) ${w}.int8(-1);\n${indent}else {\n${indent}  ${w}.int8(1);\n${indent}  encode${t}(${w}, ${v}, version);\n${indent}}\n`;
        if (n === 'true') return `${indent}${enc}`;
        return `${indent}if (${n}) {\n${indent}  ${enc.replace(/\n/g, `\n  `).trimEnd()}\n${indent}} else {\n${indent}  if (${v} === null) throw nullNotAllowed(${jsString(name)}, version);\n${indent}  encode${t}(${w}, ${v}, version);\n${indent}}\n`;
      }
    }
  }

  /** Statements writing the value `v` (already defaulted) of field f to writer `w`. */
  encodeField(f: FieldSpec, outer: VersionRange, v: string, w: string, indent: string): string {
    const ctx = intersect(parseVersions(f.versions), outer)!;
    const c = this.compactExpr(f, ctx);
    const n = this.nullableExpr(f, ctx);
    if (!f.type.startsWith('[]')) return this.encodeScalar(f.type, c, n, v, f.name, w, indent);
    const elem = f.type.slice(2);
    let s = '';
    if (n !== 'false') {
      s += `${indent}if (${v} === null) {\n`;
      if (n !== 'true') s += `${indent}  if (!(${n})) throw nullNotAllowed(${jsString(f.name)}, version);\n`;
      s += `${indent}  ${w}.arrayLength(-1, ${c});\n${indent}} else {\n`;
    } else s += `${indent}{\n`;
    s += `${indent}  const a = ${v} as readonly never[];\n`;
    s += `${indent}  ${w}.arrayLength(a.length, ${c});\n`;
    s += `${indent}  for (let i = 0; i < a.length; i++) {\n`;
    s += this.encodeScalar(elem, c, 'false', 'a[i]', f.name, w, indent + '    ');
    s += `${indent}  }\n${indent}}\n`;
    return s;
  }

  // ---- per struct ----------------------------------------------------------------------------------

  genStruct(st: Struct): string {
    const ctx = st.ctx;
    const flexCtx = this.flexible ? cond(this.flexible, ctx) : 'false';
    const fields = st.fields.filter((f) => intersect(parseVersions(f.versions), ctx) !== null);
    const regular = fields.filter((f) => f.tag === undefined);
    const tagged = fields.filter((f) => f.tag !== undefined).sort((a, b) => a.tag! - b.tag!);
    const exported = 'export ';
    let out = '';

    // Interface.
    out += `${exported}interface ${st.name} {\n`;
    for (const f of fields) {
      if (f.about) out += `  /** ${f.about.replace(/\*\//g, '*\\/').replace(/\s+/g, ' ')} */\n`;
      out += `  ${camel(f.name)}: ${this.tsType(f, ctx)};\n`;
    }
    if (flexCtx !== 'false') out += `  /** Tagged fields this schema does not know, kept verbatim and re-emitted. */\n  unknownTaggedFields?: TaggedField[];\n`;
    out += '}\n\n';

    // Decoder.
    const fnPrefix = st.topLevel ? 'export ' : '';
    out += `${fnPrefix}function decode${st.name}(r: Reader, version: number): ${st.name} {\n`;
    if (st.topLevel) out += `  if (version < ${this.valid.min} || version > ${this.valid.max}) throw unsupportedVersion(${jsString(st.name)}, version);\n`;
    if (flexCtx !== 'false') out += `  const flexible = ${flexCtx};\n`;
    for (const f of fields) {
      out += `  let f_${camel(f.name)}: ${this.tsType(f, ctx)} = ${this.defaultExpr(f, ctx)};\n`;
    }
    for (const f of regular) {
      const pc = cond(parseVersions(f.versions), ctx);
      if (pc === 'true') out += this.decodeField(f, ctx, `f_${camel(f.name)}`, '  ');
      else out += `  if (${pc}) {\n${this.decodeField(f, ctx, `f_${camel(f.name)}`, '    ')}  }\n`;
    }
    if (flexCtx !== 'false') {
      out += `  let unknown: TaggedField[] | undefined;\n`;
      out += `  if (flexible) {\n`;
      if (tagged.length === 0) out += `    unknown = r.taggedFields();\n`;
      else {
        out += `    const count = r.uvarint();\n`;
        out += `    if (count > r.remaining()) throw protocolError(\`\${count} tagged fields cannot fit in \${r.remaining()} bytes\`);\n`;
        out += `    for (let i = 0; i < count; i++) {\n`;
        out += `      const tag = r.uvarint();\n      const size = r.uvarint();\n      r.need(size);\n      const end = r.pos + size;\n`;
        let first = true;
        for (const f of tagged) {
          const tc = cond(parseVersions(f.taggedVersions ?? f.versions), ctx);
          out += `      ${first ? '' : 'else '}if (tag === ${f.tag}${tc === 'true' ? '' : ` && ${tc}`}) {\n`;
          out += this.decodeField(f, ctx, `f_${camel(f.name)}`, '        ');
          out += `      }\n`;
          first = false;
        }
        out += `      else {\n        (unknown ??= []).push({ tag, data: r.view(size) });\n        continue;\n      }\n`;
        out += `      if (r.pos !== end) throw protocolError(\`tagged field \${tag} declared \${size} bytes but its value took \${r.pos - end + size}\`);\n`;
        out += `    }\n`;
      }
      out += `  }\n`;
    }
    const props = fields.map((f) => `${camel(f.name)}: f_${camel(f.name)}`).join(', ');
    if (flexCtx !== 'false') {
      out += `  const m: ${st.name} = { ${props} };\n`;
      out += `  if (unknown !== undefined) m.unknownTaggedFields = unknown;\n  return m;\n}\n\n`;
    } else out += `  return { ${props} };\n}\n\n`;

    // Encoder.
    out += `${fnPrefix}function encode${st.name}(w: Writer, m: Input<${st.name}>, version: number): void {\n`;
    if (st.topLevel) out += `  if (version < ${this.valid.min} || version > ${this.valid.max}) throw unsupportedVersion(${jsString(st.name)}, version);\n`;
    if (flexCtx !== 'false') out += `  const flexible = ${flexCtx};\n`;
    for (const f of regular) {
      const name = camel(f.name);
      const pc = cond(parseVersions(f.versions), ctx);
      const d = this.defaultExpr(f, ctx);
      const isStruct = !f.type.startsWith('[]') && !PRIMITIVES.has(f.type);
      const dv = isStruct && d !== 'null' ? '{}' : d;
      const body = (ind: string) => `${ind}const v = m.${name} === undefined ? ${dv} : m.${name};\n` + this.encodeField(f, ctx, 'v', 'w', ind);
      if (pc === 'true') out += `  {\n${body('    ')}  }\n`;
      else {
        out += `  if (${pc}) {\n${body('    ')}  }`;
        if (!f.ignorable && !isStruct) {
          out += ` else if (m.${name} !== undefined && ${this.nonDefaultCheck(f, ctx, `m.${name}`)}) {\n    throw fieldNotInVersion(${jsString(st.name + '.' + f.name)}, version);\n  }`;
        }
        out += `\n`;
      }
    }
    if (flexCtx !== 'false') {
      if (tagged.length === 0) out += `  if (flexible) w.taggedFields(m.unknownTaggedFields);\n`;
      else {
        this.usesWriterValue = true;
        out += `  if (flexible) {\n    // Allocated only when a known tagged field carries a non-default value (rare on the hot path).\n    let tf: TaggedField[] | undefined = m.unknownTaggedFields ? [...m.unknownTaggedFields] : undefined;\n`;
        for (const f of tagged) {
          const name = camel(f.name);
          const tc = cond(parseVersions(f.taggedVersions ?? f.versions), ctx);
          out += `    if (${tc === 'true' ? '' : `${tc} && `}m.${name} !== undefined && ${this.nonDefaultCheck(f, ctx, `m.${name}`)}) {\n`;
          out += `      const tw = new Writer(64);\n      const v = m.${name};\n`;
          out += this.encodeField(f, ctx, 'v', 'tw', '      ');
          out += `      (tf ??= []).push({ tag: ${f.tag}, data: tw.toBuffer() });\n    }\n`;
        }
        out += `    w.taggedFields(tf);\n  }\n`;
      }
    }
    out += `}\n\n`;
    return out;
  }

  genDefault(st: Struct): string {
    const ctx = st.ctx;
    const fields = st.fields.filter((f) => intersect(parseVersions(f.versions), ctx) !== null);
    const props = fields.map((f) => `${camel(f.name)}: ${this.defaultExpr(f, ctx)}`).join(', ');
    return `function default${st.name}(): ${st.name} {\n  return { ${props} };\n}\n\n`;
  }

  genIsDefault(st: Struct): string {
    const ctx = st.ctx;
    const fields = st.fields.filter((f) => intersect(parseVersions(f.versions), ctx) !== null);
    let out = `function isDefault${st.name}(m: Input<${st.name}>): boolean {\n`;
    const checks = fields.map((f) => `(m.${camel(f.name)} === undefined || !(${this.nonDefaultCheck(f, ctx, `m.${camel(f.name)}`)}))`);
    if (this.flexible) checks.push('(m.unknownTaggedFields === undefined || m.unknownTaggedFields.length === 0)');
    out += `  return ${checks.length ? checks.join(' &&\n    ') : 'true'};\n}\n\n`;
    return out;
  }

  file(header: string): string {
    let body = '';
    // Top-level first, then nested structs in discovery order.
    for (const st of this.structs.values()) body += this.genStruct(st);
    const top = { name: this.spec.name, fields: this.spec.fields, ctx: this.valid, topLevel: true };
    const topCode = this.genStruct(top);
    // Default factories and isDefault checks can pull in further structs; iterate to a fixed point.
    let extra = '';
    const doneD = new Set<string>();
    const doneI = new Set<string>();
    for (;;) {
      const d = [...this.needDefault].find((n) => !doneD.has(n));
      const i = [...this.needIsDefault].find((n) => !doneI.has(n));
      if (d === undefined && i === undefined) break;
      if (d !== undefined) {
        doneD.add(d);
        extra += this.genDefault(this.structs.get(d)!);
      }
      if (i !== undefined) {
        doneI.add(i);
        extra += this.genIsDefault(this.structs.get(i)!);
      }
    }
    const all = topCode + body + extra;
    const imports: string[] = [];
    imports.push(`import type { Input, RecordsView, TaggedField } from '../types.ts';`);
    imports.push(`import type { Reader } from '../reader.ts';`);
    imports.push(this.usesWriterValue ? `import { Writer } from '../writer.ts';` : `import type { Writer } from '../writer.ts';`);
    const helpers = ['unsupportedVersion', 'fieldNotInVersion', 'nullNotAllowed', 'protocolError', 'ZERO_UUID'].filter((h) => new RegExp(`\\b${h}\\b`).test(all));
    if (helpers.length) imports.push(`import { ${helpers.join(', ')} } from '../codec-support.ts';`);
    const usedTypes = ['Input', 'RecordsView', 'TaggedField'].filter((t) => new RegExp(`\\b${t}\\b`).test(all));
    imports[0] = usedTypes.length ? `import type { ${usedTypes.join(', ')} } from '../types.ts';` : '';
    return header + imports.filter(Boolean).join('\n') + '\n\n' + all.trimEnd() + '\n';
  }
}

function headerComment(spec: MessageSpec, source: string): string {
  const v = parseVersions(spec.validVersions)!;
  const f = parseVersions(spec.flexibleVersions);
  return (
    `// Generated by scripts/gen-protocol.ts from ${source}. Do not edit; run \`npm run gen:protocol\`.\n` +
    `// ${spec.name}${spec.apiKey !== undefined ? ` (API key ${spec.apiKey})` : ''}: versions ${v.min}-${v.max}, flexible ${f ? `${f.min}+` : 'never'}.\n` +
    `/* eslint-disable */\n`
  );
}

export function generate(inDir: string, outDir: string): string[] {
  const files = readdirSync(inDir)
    .filter((n) => n.endsWith('.json'))
    .sort();
  const specs: MessageSpec[] = files.map((n) => JSON.parse(stripJsonComments(readFileSync(join(inDir, n), 'utf8'))) as MessageSpec);
  const source = 'Apache Kafka 3.9.0 message definitions (clients/src/main/resources/common/message)';
  const written: string[] = [];
  mkdirSync(outDir, { recursive: true });
  const out = new Map<string, string>();
  const apis = new Map<number, { request?: MessageSpec; response?: MessageSpec }>();
  const dataMessages: MessageSpec[] = [];
  for (const spec of specs) {
    // Request and response headers are hand-written (src/protocol/kafka/request-header.ts, response-header.ts).
    if (spec.type === 'header') continue;
    const gen = new MessageGen(spec);
    out.set(`${kebab(spec.name)}.ts`, gen.file(headerComment(spec, source)));
    if (spec.type === 'data') dataMessages.push(spec);
    else {
      const e = apis.get(spec.apiKey!) ?? {};
      e[spec.type] = spec;
      apis.set(spec.apiKey!, e);
    }
  }
  out.set('index.ts', indexFile(apis, dataMessages, source));
  for (const name of readdirSync(outDir)) if (name.endsWith('.ts') && !out.has(name)) rmSync(join(outDir, name));
  for (const [name, text] of [...out.entries()].sort()) {
    writeFileSync(join(outDir, name), text);
    written.push(name);
  }
  return written;
}

function indexFile(apis: Map<number, { request?: MessageSpec; response?: MessageSpec }>, data: MessageSpec[], source: string): string {
  const keys = [...apis.keys()].sort((a, b) => a - b);
  let s = `// Generated by scripts/gen-protocol.ts from ${source}. Do not edit; run \`npm run gen:protocol\`.\n`;
  s += `// The table of every API key: name, schema version range, flexible versions and the four codecs.\n/* eslint-disable */\n`;
  s += `import type { Input } from '../types.ts';\nimport type { Reader } from '../reader.ts';\nimport type { Writer } from '../writer.ts';\n`;
  for (const k of keys) {
    const e = apis.get(k)!;
    if (!e.request || !e.response) throw new Error(`API ${k} lacks a request or response`);
    for (const m of [e.request, e.response]) {
      s += `import { decode${m.name}, encode${m.name}, type ${m.name} } from './${kebab(m.name)}.ts';\n`;
    }
  }
  for (const m of data) s += `export { decode${m.name}, encode${m.name}, type ${m.name} } from './${kebab(m.name)}.ts';\n`;
  s += `\n/** Codecs of one API. Flexible versions use request header v2 and response header v1 (ApiVersions: v0). */\n`;
  s += `export interface ApiCodec<Req = any, Res = any> {\n  readonly apiKey: number;\n  readonly name: string;\n  readonly minVersion: number;\n  readonly maxVersion: number;\n`;
  s += `  /** First flexible version of the request and of the response, or ${NEVER} when never flexible. */\n  readonly requestFlexibleMin: number;\n  readonly responseFlexibleMin: number;\n`;
  s += `  decodeRequest(r: Reader, version: number): Req;\n  encodeRequest(w: Writer, m: Input<Req>, version: number): void;\n`;
  s += `  decodeResponse(r: Reader, version: number): Res;\n  encodeResponse(w: Writer, m: Input<Res>, version: number): void;\n}\n\n`;
  s += `/** Request and response types by API key. */\nexport interface ApiMessages {\n`;
  for (const k of keys) {
    const e = apis.get(k)!;
    s += `  ${k}: { request: ${e.request!.name}; response: ${e.response!.name} };\n`;
  }
  s += `}\n\nexport type ApiKey = keyof ApiMessages;\n\n`;
  s += `/** API keys by name. */\nexport const API_KEYS = {\n`;
  for (const k of keys) s += `  ${apis.get(k)!.request!.name.replace(/Request$/, '')}: ${k},\n`;
  s += `} as const;\n\n`;
  s += `function api<K extends ApiKey>(apiKey: K, name: string, minVersion: number, maxVersion: number, requestFlexibleMin: number, responseFlexibleMin: number,\n`;
  s += `  decodeRequest: ApiCodec<ApiMessages[K]['request']>['decodeRequest'], encodeRequest: ApiCodec<ApiMessages[K]['request']>['encodeRequest'],\n`;
  s += `  decodeResponse: ApiCodec<unknown, ApiMessages[K]['response']>['decodeResponse'], encodeResponse: ApiCodec<unknown, ApiMessages[K]['response']>['encodeResponse'],\n`;
  s += `): ApiCodec<ApiMessages[K]['request'], ApiMessages[K]['response']> {\n`;
  s += `  return { apiKey, name, minVersion, maxVersion, requestFlexibleMin, responseFlexibleMin, decodeRequest, encodeRequest, decodeResponse, encodeResponse };\n}\n\n`;
  s += `/** Every API the schema defines, indexed by API key (holes are undefined). */\nexport const API_BY_KEY: readonly (ApiCodec | undefined)[] = (() => {\n  const t: (ApiCodec | undefined)[] = [];\n`;
  for (const k of keys) {
    const e = apis.get(k)!;
    const req = e.request!;
    const res = e.response!;
    const v = parseVersions(req.validVersions)!;
    const rv = parseVersions(res.validVersions)!;
    if (v.min !== rv.min || v.max !== rv.max) throw new Error(`API ${k}: request and response version ranges differ`);
    const rf = parseVersions(req.flexibleVersions);
    const sf = parseVersions(res.flexibleVersions);
    const name = req.name.replace(/Request$/, '');
    s += `  t[${k}] = api(${k}, ${jsString(name)}, ${v.min}, ${v.max}, ${rf ? rf.min : NEVER}, ${sf ? sf.min : NEVER}, decode${req.name}, encode${req.name}, decode${res.name}, encode${res.name});\n`;
  }
  s += `  return t;\n})();\n\n`;
  const names = keys.flatMap((k) => [apis.get(k)!.request!.name, apis.get(k)!.response!.name]);
  s += `export type {\n${names.map((n) => `  ${n},`).join('\n')}\n};\n\n`;
  s += `export {\n${names.map((n) => `  decode${n},\n  encode${n},`).join('\n')}\n};\n`;
  return s;
}

function main(argv: string[]): void {
  let inDir = process.env.STREAMBUS_KAFKA_MESSAGES ?? '../shared/kafka-protocol/messages';
  let outDir = 'src/protocol/kafka/generated';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--in') inDir = argv[++i]!;
    else if (argv[i] === '--out') outDir = argv[++i]!;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const written = generate(inDir, outDir);
  console.log(`gen-protocol: wrote ${written.length} files to ${outDir}`);
}

if (process.argv[1] && /scripts\/gen-protocol\.(js|ts)$/.test(process.argv[1])) main(process.argv.slice(2));
