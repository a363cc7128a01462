import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { publishedSchemas } from '../src/output/published.js';
import { parseShard, parseUsersFile } from '../src/targets.js';
import { REPO, runCli } from './helpers/cli.js';

/** What the project publishes besides the CLI: the JSON Schemas, and the Kubernetes manifest. */

describe('schemas/', () => {
  it('holds exactly what the code generates (run `npm run schemas` after changing a schema)', () => {
    for (const [name, schema] of Object.entries(publishedSchemas())) {
      const file = path.join(REPO, 'schemas', name);
      expect(JSON.parse(fs.readFileSync(file, 'utf8')), name).toEqual(schema);
    }
    expect(fs.readdirSync(path.join(REPO, 'schemas')).sort()).toEqual(Object.keys(publishedSchemas()).sort());
  });
});

describe('docs/k8s/cronjob.yaml', () => {
  type Doc = Record<string, unknown>;
  const docs = parseAllDocuments(fs.readFileSync(path.join(REPO, 'docs', 'k8s', 'cronjob.yaml'), 'utf8')).map((d) => d.toJS() as Doc);
  const byKind = (kind: string) => docs.find((d) => d['kind'] === kind) ?? {};
  const at = (value: unknown, ...keys: (string | number)[]): unknown => keys.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);

  const cron = byKind('CronJob');
  const job = at(cron, 'spec', 'jobTemplate', 'spec') as Doc;
  const pod = at(job, 'template', 'spec') as Doc;
  const container = at(pod, 'containers', 0) as Doc;
  const script = String(at(container, 'args', 0));

  it('is a CronJob that never overlaps, starting an Indexed Job whose index is the --shard', () => {
    expect(at(cron, 'apiVersion')).toBe('batch/v1');
    expect(at(cron, 'spec', 'concurrencyPolicy')).toBe('Forbid');
    expect(job['completionMode']).toBe('Indexed');
    const completions = Number(job['completions']);
    expect(completions).toBeGreaterThan(1);
    expect(job['parallelism']).toBe(completions);
    const shard = /--shard "\$JOB_COMPLETION_INDEX\/(\d+)"/.exec(script);
    expect(Number(shard?.[1])).toBe(completions);
    expect(parseShard(`${completions - 1}/${shard?.[1] ?? ''}`)).toEqual({ index: completions - 1, count: completions });
    expect(script).toMatch(/--out "\/archive\/shard-\$JOB_COMPLETION_INDEX"/);
  });

  it('reads the key from a Secret file through AGNTDATA_API_KEY_FILE, and the accounts from a ConfigMap', () => {
    const env = at(container, 'env') as { name: string; value: string }[];
    const keyFile = env.find((e) => e.name === 'AGNTDATA_API_KEY_FILE')?.value ?? '';
    expect(env.map((e) => e.name)).not.toContain('AGNTDATA_API_KEY');
    const mounts = at(container, 'volumeMounts') as { name: string; mountPath: string }[];
    const volumes = at(pod, 'volumes') as Doc[];
    const secretMount = mounts.find((m) => keyFile.startsWith(`${m.mountPath}/`));
    const secretVolume = volumes.find((v) => v['name'] === secretMount?.name);
    expect(at(secretVolume, 'secret', 'items', 0, 'path')).toBe(path.basename(keyFile));
    const users = /--users-file (\S+)/.exec(script)?.[1] ?? '';
    const configMount = mounts.find((m) => users.startsWith(`${m.mountPath}/`));
    const configVolume = volumes.find((v) => v['name'] === configMount?.name);
    const configMap = docs.find((d) => d['kind'] === 'ConfigMap' && at(d, 'metadata', 'name') === at(configVolume, 'configMap', 'name'));
    const list = String(at(configMap, 'data', path.basename(users)));
    expect(parseUsersFile(list, 'accounts.txt').length).toBeGreaterThan(0);
    const claim = at(volumes.find((v) => v['name'] === 'archive'), 'persistentVolumeClaim', 'claimName');
    expect(docs.some((d) => d['kind'] === 'PersistentVolumeClaim' && at(d, 'metadata', 'name') === claim)).toBe(true);
  });

  it('has every placeholder filled, and every flag it passes exists', async () => {
    const text = fs.readFileSync(path.join(REPO, 'docs', 'k8s', 'cronjob.yaml'), 'utf8');
    expect(text).not.toMatch(/<[a-z][\w -]*>|TODO|CHANGEME|FIXME|example\.com/i);
    const help = (await runCli(['--help'])).stdout;
    for (const flag of script.match(/--[a-z-]+/g) ?? []) expect(help, flag).toContain(`${flag} `);
  });
});
