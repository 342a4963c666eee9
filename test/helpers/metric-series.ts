/**
 * Checks on a Prometheus text exposition (what /metrics serves): a scraper rejects a scrape, or keeps
 * one value of two, when a series (a metric name with one set of labels) or a metric family appears
 * twice, so every series must appear once.
 */

/** A series as a key: its name and its labels sorted by name (their order in the text is free). */
function seriesKey(line: string): string {
  const open = line.indexOf('{');
  const space = line.lastIndexOf(' ');
  if (open < 0 || open > space) return line.slice(0, space);
  const name = line.slice(0, open);
  const labels = [...line.slice(open + 1, line.lastIndexOf('}')).matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => `${m[1]}="${m[2]}"`).sort();
  return `${name}{${labels.join(',')}}`;
}

/** Series and metric families (`# TYPE` lines) listed more than once, with how often. */
export function repeatedSeries(text: string): string[] {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || (line.startsWith('#') && !line.startsWith('# TYPE '))) continue;
    const key = line.startsWith('# TYPE ') ? `family ${line.split(' ')[2]}` : seriesKey(line);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n > 1).map(([key, n]) => `${key} x${n}`);
}
