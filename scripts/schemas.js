// @ts-check
/**
 * `npm run schemas`: writes the published JSON Schemas in schemas/ from the zod schemas the code
 * uses (the media record, the config file). test/schemas.test.ts checks the files match, so a
 * change to a schema that is not regenerated fails CI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Through a computed specifier: the built code is not part of the type-checked program.
const built = new URL('../dist/output/published.js', import.meta.url).href;
/** @type {{ publishedSchemas: () => Record<string, unknown> }} */
const { publishedSchemas } = await import(built);
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
fs.mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(publishedSchemas())) {
  fs.writeFileSync(path.join(dir, name), `${JSON.stringify(schema, null, 2)}\n`);
  process.stdout.write(`wrote schemas/${name}\n`);
}
