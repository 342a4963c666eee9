/**
 * Kafka's `ssl.principal.mapping.rules` for client certificates: a list of `RULE:pattern/replacement/`
 * (optionally followed by L or U to lower- or upper-case the result) and `DEFAULT`, separated by
 * commas. Each rule's pattern is matched against the whole distinguished name in RFC 2253 order
 * (`CN=alice,OU=apps,O=Example`); the first that matches gives the name, `$1` and the like referring to
 * its groups. `DEFAULT` (and no rule matching) gives the subject's CN, StreamBus's default principal.
 * Patterns are JavaScript regular expressions, which read Kafka's usual rules the same way.
 */

export type PrincipalRule = { readonly kind: 'default' } | { readonly kind: 'rule'; readonly pattern: RegExp; readonly replacement: string; readonly caseChange: '' | 'L' | 'U' };

/** Parses the rule list; throws an Error saying where it is malformed. An empty text is no rules. */
export function parsePrincipalRules(text: string): PrincipalRule[] {
  const rules: PrincipalRule[] = [];
  let i = 0;
  const skipSeparators = () => {
    while (i < text.length && /[\s,]/.test(text[i]!)) i++;
  };
  /** Reads up to the next unescaped '/', leaving `\/` as '/'. */
  const part = (what: string): string => {
    let out = '';
    while (i < text.length && text[i] !== '/') {
      if (text[i] === '\\' && text[i + 1] === '/') {
        out += '/';
        i += 2;
      } else out += text[i++];
    }
    if (text[i] !== '/') throw new Error(`rule ${rules.length + 1}: the ${what} is not closed by '/'`);
    i++;
    return out;
  };
  skipSeparators();
  while (i < text.length) {
    if (text.startsWith('DEFAULT', i)) {
      rules.push({ kind: 'default' });
      i += 'DEFAULT'.length;
    } else if (text.startsWith('RULE:', i)) {
      i += 'RULE:'.length;
      const source = part('pattern');
      const replacement = part('replacement');
      const caseChange = text[i] === 'L' || text[i] === 'U' ? (text[i++] as 'L' | 'U') : '';
      let pattern: RegExp;
      try {
        pattern = new RegExp(source);
      } catch (err) {
        throw new Error(`rule ${rules.length + 1}: pattern ${JSON.stringify(source)} is not a regular expression (${(err as Error).message})`);
      }
      rules.push({ kind: 'rule', pattern, replacement, caseChange });
    } else {
      throw new Error(`rule ${rules.length + 1}: expected RULE:pattern/replacement/ or DEFAULT at ${JSON.stringify(text.slice(i, i + 20))}`);
    }
    const before = i;
    skipSeparators();
    if (i < text.length && i === before) throw new Error(`rule ${rules.length}: expected a comma before ${JSON.stringify(text.slice(i, i + 20))}`);
  }
  return rules;
}

/** The principal name for a certificate subject: `dn` in RFC 2253 order, `cn` its common name. */
export function mapPrincipal(rules: readonly PrincipalRule[], dn: string, cn: string): string {
  for (const rule of rules) {
    if (rule.kind === 'default') return cn;
    const anchored = new RegExp(`^(?:${rule.pattern.source})$`, rule.pattern.flags);
    if (!anchored.test(dn)) continue;
    const name = dn.replace(anchored, rule.replacement);
    return rule.caseChange === 'L' ? name.toLowerCase() : rule.caseChange === 'U' ? name.toUpperCase() : name;
  }
  return cn;
}

/** RFC 2253 order of a subject as X509Certificate.subject gives it (one `key=value` per line, issuer order). */
export function rfc2253(subjectLines: string): string {
  return subjectLines.split('\n').filter((l) => l !== '').reverse().join(',');
}
