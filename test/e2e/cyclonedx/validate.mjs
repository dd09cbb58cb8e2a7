#!/usr/bin/env node
// validate.mjs FILE... checks each CycloneDX JSON document against the
// schema of its own specVersion with @cyclonedx/cyclonedx-library's strict
// JSON validator (ajv with the bundled CycloneDX, SPDX and JSF schemas; no
// network). It prints one line per file and exits 0 when every file is
// valid, 1 when one is not (the errors go to stderr), 2 on bad usage or I/O.
import { readFile } from 'node:fs/promises';
import * as CDX from '@cyclonedx/cyclonedx-library';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node validate.mjs BOM.json...');
  process.exit(2);
}
let status = 0;
for (const file of files) {
  let text;
  let version;
  try {
    text = await readFile(file, 'utf-8');
    version = JSON.parse(text).specVersion;
  } catch (e) {
    console.error(`${file}: ${e.message}`);
    process.exit(2);
  }
  if (!Object.values(CDX.Spec.Version).includes(version)) {
    console.error(`${file}: specVersion ${JSON.stringify(version)} is not one the library knows`);
    process.exit(2);
  }
  const errors = await new CDX.Validation.JsonStrictValidator(version).validate(text);
  if (errors === null) {
    console.log(`valid: ${file} (CycloneDX ${version})`);
  } else {
    console.error(`INVALID: ${file} (CycloneDX ${version})\n${JSON.stringify(errors, null, 2)}`);
    status = 1;
  }
}
process.exit(status);
